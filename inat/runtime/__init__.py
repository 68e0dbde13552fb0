"""Running one bundle's network fast on photos: the engine (decoding rule, preprocessing, backend), ONNX Runtime
and OpenVINO backends, and the export that makes their files."""
