// A fake onnxruntime module for tests of the runner's session options: it records the options each session is
// created with and runs nothing.

/** The fake module and the options of every session created through it, in order. */
export function recordingOrt() {
  const created: Array<Record<string, unknown>> = [];
  const ort = {
    Tensor: class {},
    InferenceSession: {
      async create(_model: unknown, options: Record<string, unknown>) {
        created.push(options);
        return { inputNames: ['input'], outputNames: ['output'], run: async () => ({}), release: async () => {} };
      },
    },
  };
  return { ort, created };
}
