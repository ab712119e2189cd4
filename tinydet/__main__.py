"""`python -m tinydet` is the `tinydet` command."""

import sys

from tinydet.cli import main

sys.exit(main())
