/** Whether onnxruntime-node is installed (an optional peer): the tests that run ONNX Runtime skip without it. */
export const hasOrt = await import('onnxruntime-node').then(
  () => true,
  () => false,
);
