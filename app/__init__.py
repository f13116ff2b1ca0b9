"""LiveGrad: deep-learning lessons in Markdown with live PyTorch demos."""
