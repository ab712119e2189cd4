"""Sets ultralytics up for tinydet: imported by the hook in env.py as soon as ultralytics itself is imported.

Importing the two modules is the set-up: runtime.py applies the runtime settings at import, builder.py makes
`parse_model` build tinydet's modules. Nothing here reads their attributes, so it works while either of them
is still being imported (the hook can fire from inside their own `import ultralytics`).
"""

from __future__ import annotations

from tinydet.integrations.ultralytics import builder, runtime  # noqa: F401  (importing them is the set-up)
