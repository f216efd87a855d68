"""slice-distill model definitions, TorchScript export and test fixtures."""
