package dev.continuum.tensor;

/**
 * One thread's working memory for a row kernel ({@link FormatKernels.RowKernel}): a block decoded to its integer
 * form ({@link BlockFormat#decode}) and the running outputs of a group of tokens. Allocated once per
 * {@link MatMul} thread (and once per tensor for {@link WeightTensor#dequantizeRow}), never per call.
 */
final class RowScratch {
    /** Tokens one decode of a row serves: enough to spread the decode, few enough that their activations stay in L1/L2. */
    static final int TOKENS = 8;

    final byte[] levels = new byte[BlockFormat.MAX_BLOCK];
    final int[] scales = new int[2 * BlockFormat.MAX_HALVES];
    final float[] factors = new float[2];
    final float[] totals = new float[TOKENS];
}
