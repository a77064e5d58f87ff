package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Encodes float rows into ggml storage formats, quantizing the way ggml's reference quantizers do, so weights
 * we generate are laid out exactly like those llama.cpp writes.
 */
public final class WeightEncoder {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private WeightEncoder() {
    }

    /** Writes {@code n} floats of {@code src[so..]} as {@code type} at byte {@code offset} of {@code dst}. */
    public static void encode(GgmlType type, float[] src, int so, int n, MemorySegment dst, long offset) {
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(F32, offset + 4L * i, src[so + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(I16, offset + 2L * i, Float.floatToFloat16(src[so + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(I16, offset + 2L * i, toBf16(src[so + i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q8Block(src, so + 32 * b, dst, offset + 34L * b);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q4Block(src, so + 32 * b, dst, offset + 18L * b);
                }
            }
            default -> throw new IllegalArgumentException("cannot encode " + type);
        }
    }

    /** Round to nearest even on the upper 16 bits, as ggml's fp32-to-bf16 conversion does (NaN kept quiet). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    // Q8_0 block: | d: f16 | q[32]: int8 |, value = d * q
    private static void q8Block(float[] x, int xo, MemorySegment dst, long o) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        dst.set(I16, o, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) roundHalfAway(x[xo + j] * id));
        }
    }

    // Q4_0 block: | d: f16 | qs[16] |, qs[j] = q[j] | q[j+16] << 4, value = d * (q - 8)
    private static void q4Block(float[] x, int xo, MemorySegment dst, long o) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        dst.set(I16, o, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[xo + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[xo + 16 + j] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (lo | (hi << 4)));
        }
    }

    /**
     * C's {@code roundf}, as ggml's Q8_0 uses. Not {@code floor(v + 0.5f)}: for the float just below 0.5 that sum
     * rounds up to 1.
     */
    private static int roundHalfAway(float v) {
        float a = Math.abs(v);
        int r = (int) a;
        if (a - r >= 0.5f) {
            r++;
        }
        return v < 0 ? -r : r;
    }
}
