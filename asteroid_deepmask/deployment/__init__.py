"""Running trained models: separators over torch, TorchScript and ONNX Runtime (``separators``),
files of any length (``long_files``), export for deployment (``export``) and the allocator
setting that keeps long runs flat (``allocator``)."""
