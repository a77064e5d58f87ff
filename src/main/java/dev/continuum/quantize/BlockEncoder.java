package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * Quantizes blocks of floats into one ggml block format, bit for bit as llama-quantize does without an importance
 * matrix. An instance keeps scratch arrays: use one per thread.
 */
public interface BlockEncoder {
    GgmlType type();

    /** Encodes {@code type().blockSize} floats of {@code x[xo..]} into {@code type().blockBytes} bytes at {@code out[oo..]}. */
    void encodeBlock(float[] x, int xo, byte[] out, int oo);

    /** Encodes a row of {@code n} floats (a multiple of the block size) into {@code out[oo..]}. */
    default void encodeRow(float[] x, int xo, int n, byte[] out, int oo) {
        GgmlType t = type();
        for (int b = 0; b < n / t.blockSize; b++) {
            encodeBlock(x, xo + b * t.blockSize, out, oo + b * t.blockBytes);
        }
    }

    /** A new encoder for {@code type}; throws for types llama-quantize does not produce here. */
    static BlockEncoder of(GgmlType type) {
        return switch (type) {
            case Q8_0 -> new Q8_0Encoder();
            case Q4_0 -> new Q4_0Encoder();
            case Q4_1 -> new Q4_1Encoder();
            case Q5_0 -> new Q5_0Encoder();
            case Q5_1 -> new Q5_1Encoder();
            case Q2_K -> new Q2_KEncoder();
            case Q3_K -> new Q3_KEncoder();
            case Q4_K -> new Q4_KEncoder();
            case Q5_K -> new Q5_KEncoder();
            case Q6_K -> new Q6_KEncoder();
            case IQ4_NL -> new IQ4_NLEncoder();
            default -> throw new IllegalArgumentException("no quantizer for " + type);
        };
    }

    /** Stores {@code v} as a little-endian IEEE half, rounded to nearest even like ggml's FP32-to-FP16. */
    static void putHalf(byte[] out, int o, float v) {
        short h = Float.floatToFloat16(v);
        out[o] = (byte) h;
        out[o + 1] = (byte) (h >> 8);
    }

    /** The half stored at {@code out[o..]}, as ggml reads it back to compute the final levels. */
    static float half(byte[] out, int o) {
        return Float.float16ToFloat((short) ((out[o] & 0xff) | (out[o + 1] << 8)));
    }
}
