package dev.continuum.cuda;

import dev.continuum.tensor.GgmlType;

/**
 * A weight matrix in device memory exactly as the file stores it (row-major ggml blocks), which is what the
 * kernels read: {@code rows} outputs of {@code cols} inputs each.
 */
record DeviceMatrix(GgmlType type, int rows, int cols, DeviceBuffer data) {
    /** The kernel-name suffix of a format ({@code gemv_<suffix>_t8}, {@code gemm_<suffix>}, {@code embed_<suffix>}). */
    static String suffix(GgmlType type) {
        return switch (type) {
            case F32 -> "f32";
            case F16 -> "f16";
            case BF16 -> "bf16";
            case Q8_0 -> "q8_0";
            case Q4_0 -> "q4_0";
            default -> throw new CudaException(CudaWeightTypes.unreadable(type));
        };
    }

    /**
     * Whether the decode GEMV multiplies 8-bit activations ({@code quantize_q8}) rather than floats: Q8_0 and Q4_0,
     * as the CPU's Q8_0Tensor and Q4_0Tensor do (exact integer tile sums), so both runners round alike.
     */
    boolean quantizedActivations() {
        return quantizedActivations(type);
    }

    /** {@link #quantizedActivations()} for a format: the GEMV then takes {@code (W, xq, xd, y, ...)}. */
    static boolean quantizedActivations(GgmlType type) {
        return type == GgmlType.Q8_0 || type == GgmlType.Q4_0;
    }
}
