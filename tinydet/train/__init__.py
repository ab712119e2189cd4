"""Training: recipes, losses and trainer integration on top of ultralytics."""
