"""Running trained models: separators over torch, TorchScript and ONNX Runtime, all following one
protocol (``separators``), files of any length (``long_files``: ``separate_files``, what the
``separate`` command runs), export for deployment (``export``) and the allocator setting that
keeps long runs flat (``allocator``)."""
