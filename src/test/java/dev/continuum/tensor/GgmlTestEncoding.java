package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test-side encoders into the exact ggml byte layouts (quantizing the way ggml's reference quantizers do) and
 * independent reference decoders of those bytes, so the production kernels are checked against a second,
 * deliberately simple reading of the format.
 */
final class GgmlTestEncoding {
    private GgmlTestEncoding() {
    }

    /** Encodes a row-major {@code rows x cols} matrix as {@code type} into a heap segment. */
    static MemorySegment encode(GgmlType type, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate((int) type.bytesFor(values.length)).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (float v : values) {
                    buf.putFloat(v);
                }
            }
            case F16 -> {
                for (float v : values) {
                    buf.putShort(Float.floatToFloat16(v));
                }
            }
            case BF16 -> {
                for (float v : values) {
                    buf.putShort(floatToBf16(v));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < values.length; b += 32) {
                    quantizeQ8_0Block(values, b, buf);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < values.length; b += 32) {
                    quantizeQ4_0Block(values, b, buf);
                }
            }
            default -> throw new IllegalArgumentException("no encoder for " + type);
        }
        return MemorySegment.ofArray(buf.array());
    }

    /** Round to nearest even, as ggml's fp32->bf16 does (NaN kept quiet). */
    static short floatToBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    private static void quantizeQ8_0Block(float[] v, int from, ByteBuffer buf) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(v[from + i]));
        }
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        buf.putShort(Float.floatToFloat16(d));
        for (int i = 0; i < 32; i++) {
            buf.put((byte) roundHalfAwayFromZero(v[from + i] * id));
        }
    }

    private static void quantizeQ4_0Block(float[] v, int from, ByteBuffer buf) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < 32; i++) {
            float a = Math.abs(v[from + i]);
            if (a > amax) {
                amax = a;
                max = v[from + i];
            }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        buf.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.clamp((int) (v[from + j] * id + 8.5f), 0, 15);
            int hi = Math.clamp((int) (v[from + j + 16] * id + 8.5f), 0, 15);
            buf.put((byte) (lo | (hi << 4)));
        }
    }

    /** C's roundf. */
    private static int roundHalfAwayFromZero(float v) {
        return (int) Math.copySign(Math.floor(Math.abs(v) + 0.5f), v);
    }

    /** Reference decoding of the whole tensor, written from the format description rather than the kernels. */
    static float[] decode(GgmlType type, MemorySegment segment, int elements) {
        ByteBuffer buf = segment.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[elements];
        switch (type) {
            case F32 -> {
                for (int i = 0; i < elements; i++) {
                    out[i] = buf.getFloat(4 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < elements; i++) {
                    out[i] = Float.float16ToFloat(buf.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < elements; i++) {
                    out[i] = Float.intBitsToFloat((buf.getShort(2 * i) & 0xffff) << 16);
                }
            }
            case Q8_0 -> {
                for (int i = 0; i < elements; i++) {
                    int block = (i / 32) * 34;
                    out[i] = Float.float16ToFloat(buf.getShort(block)) * buf.get(block + 2 + i % 32);
                }
            }
            case Q4_0 -> {
                for (int i = 0; i < elements; i++) {
                    int block = (i / 32) * 18;
                    int k = i % 32;
                    int packed = buf.get(block + 2 + k % 16) & 0xff;
                    int nibble = k < 16 ? packed & 0xf : packed >>> 4;
                    out[i] = Float.float16ToFloat(buf.getShort(block)) * (nibble - 8);
                }
            }
            default -> throw new IllegalArgumentException("no decoder for " + type);
        }
        return out;
    }
}
