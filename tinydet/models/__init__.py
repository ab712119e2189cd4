"""Model zoo: configs in cfg/, names -> configs in zoo.py."""
