package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The interleaved layouts of the native AVX512-VNNI kernels ({@code src/main/native/cpu/quant_vnni.c}), used instead
 * of the Java kernels' layouts when {@link NativeCpuKernels#enabled()} chose the native route. A set is 64 rows; a
 * set's tile of 32 columns takes the same bytes as the rows' 64 GGUF blocks, 64 float16 scales first. Then:
 * <pre>
 *   Q8_0 (2176 bytes):  128 [quad 0: r0 c0..c3 | r1 c0..c3 | .. | r63 c0..c3 ] [quad 1: c4..c7] .. [quad 7: c28..c31]
 *                       each weight stored as w + 128 (w ^ 0x80): vpdpbusd's unsigned operand
 *   Q4_0 (1152 bytes):  128 [pair 0: r0 b0..b3 | .. | r63 b0..b3 ] [pair 1] [pair 2] [pair 3]
 *                       byte k of row r in pair p: column 8p + k in the low nibble, 8p + 4 + k in the high one,
 *                       as the file stores nibbles (w + 8)
 * </pre>
 * One 64-byte load is 16 rows x 4 columns (Q8_0) or x 8 columns (Q4_0): vpdpbusd's operand as it is, so the
 * kernels need no horizontal sums.
 */
final class VnniLayout {
    static final int SET_ROWS = 64;
    private static final int SCALES = 2 * SET_ROWS;
    private static final int GROUP = 4 * SET_ROWS;

    private VnniLayout() {
    }

    /** Q8_0: offset of the set's row {@code r}, column {@code j} of a tile, from the tile's first byte. */
    static int q8Offset(int r, int j) {
        return SCALES + (j / 4) * GROUP + r * 4 + (j % 4);
    }

    /** Q4_0: offset of the byte holding the set's row {@code r}, column {@code j} of a tile. */
    static int q4Offset(int r, int j) {
        return SCALES + (j / 8) * GROUP + r * 4 + (j % 4);
    }

    /** Q4_0: whether column {@code j} is in its byte's high nibble. */
    static boolean q4High(int j) {
        return (j % 8) >= 4;
    }

    /** Q8_0: the signed weight stored at {@code at} (undoing the +128). */
    static int q8WeightAt(MemorySegment data, long at) {
        return (byte) (data.get(ValueLayout.JAVA_BYTE, at) ^ 0x80);
    }

    /**
     * Moves one Q8_0 set between ggml's row-major blocks ({@code src} from 0, rows of {@code rowBytes}) and this
     * layout ({@code dst} at {@code base}); {@code toInterleaved} says which way.
     */
    static void permuteQ8_0(MemorySegment src, MemorySegment dst, long base, long rowBytes, int tiles,
                            boolean toInterleaved) {
        int blockBytes = 34;
        for (int t = 0; t < tiles; t++) {
            long tile = (long) t * SET_ROWS * blockBytes;
            for (int r = 0; r < SET_ROWS; r++) {
                long block = r * rowBytes + (long) t * blockBytes;
                moveScale(src, dst, base, block, tile + 2L * r, toInterleaved);
                for (int j = 0; j < WeightTensor.TILE; j++) {
                    long packed = tile + q8Offset(r, j);
                    long plain = block + 2 + j;
                    if (toInterleaved) {
                        dst.set(ValueLayout.JAVA_BYTE, base + packed,
                                (byte) (src.get(ValueLayout.JAVA_BYTE, plain) ^ 0x80));
                    } else {
                        dst.set(ValueLayout.JAVA_BYTE, base + plain,
                                (byte) (src.get(ValueLayout.JAVA_BYTE, packed) ^ 0x80));
                    }
                }
            }
        }
    }

    /** As {@link #permuteQ8_0} for Q4_0 (GGUF block: f16 scale, byte j = element j low, element j + 16 high). */
    static void permuteQ4_0(MemorySegment src, MemorySegment dst, long base, long rowBytes, int tiles,
                            boolean toInterleaved) {
        int blockBytes = 18;
        for (int t = 0; t < tiles; t++) {
            long tile = (long) t * SET_ROWS * blockBytes;
            for (int r = 0; r < SET_ROWS; r++) {
                long block = r * rowBytes + (long) t * blockBytes;
                moveScale(src, dst, base, block, tile + 2L * r, toInterleaved);
                for (int j = 0; j < WeightTensor.TILE; j++) {
                    long plain = block + 2 + j % 16;
                    boolean plainHigh = j >= 16;
                    long packed = tile + q4Offset(r, j);
                    boolean packedHigh = q4High(j);
                    long from = toInterleaved ? plain : packed;
                    boolean fromHigh = toInterleaved ? plainHigh : packedHigh;
                    long to = base + (toInterleaved ? packed : plain);
                    boolean toHigh = toInterleaved ? packedHigh : plainHigh;
                    int nibble = (src.get(ValueLayout.JAVA_BYTE, from) >> (fromHigh ? 4 : 0)) & 0x0f;
                    int old = dst.get(ValueLayout.JAVA_BYTE, to);
                    int merged = toHigh ? (old & 0x0f) | (nibble << 4) : (old & 0xf0) | nibble;
                    dst.set(ValueLayout.JAVA_BYTE, to, (byte) merged);
                }
            }
        }
    }

    private static void moveScale(MemorySegment src, MemorySegment dst, long base, long block, long scale,
                                  boolean toInterleaved) {
        if (toInterleaved) {
            dst.set(Q8_0Tensor.SHORT_LE, base + scale, src.get(Q8_0Tensor.SHORT_LE, block));
        } else {
            dst.set(Q8_0Tensor.SHORT_LE, base + block, src.get(Q8_0Tensor.SHORT_LE, scale));
        }
    }
}
