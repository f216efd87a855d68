// The model zoo: its architectures and presets, and the TorchScript exporter (Python).
export * from './archs.js';
export * from './export.js';
