package dev.continuum.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The layout the native K-quant kernels read ({@code src/main/native/cpu/kquant_vnni.c}, where it is drawn), made
 * once at load from a row-major Q4_K, Q5_K or Q6_K tensor: per set of {@value #SET_ROWS} rows and superblock of 256
 * columns, the rows' float16 {@code d} (and {@code dmin}) side by side, then per 32-column tile the rows' integer
 * sub-block scales (and mins) unpacked to bytes and their levels as unsigned bytes' worth of nibbles and high-bit
 * planes, 16 rows x 4 columns per 64-byte load, so no vector lane ever mixes rows and the float chain runs across
 * rows in the reference's order ({@link BlockQuantTensor}'s dot).
 *
 * <p>The file's bytes stay where they are: the repacked copy is a second, off-heap segment, since unpacked scales make
 * Q4_K and Q5_K 2-3 % larger than the file (Q6_K keeps its size). The row-major bytes still serve the embedding
 * lookup, the rows after the last whole set and {@link WeightTensor#writeRowMajor}.
 */
final class KQuantLayout {
    static final int SET_ROWS = 64;
    private static final int SUPERBLOCK = 256;
    private static final int TILES = SUPERBLOCK / WeightTensor.TILE;

    private KQuantLayout() {
    }

    /** Whether the native kernels have this format. */
    static boolean covers(BlockFormat f) {
        return f == BlockFormat.Q4_K || f == BlockFormat.Q5_K || f == BlockFormat.Q6_K;
    }

    private static int headerBytes(BlockFormat f) {
        return f == BlockFormat.Q6_K ? 2 * SET_ROWS : 4 * SET_ROWS;
    }

    private static int tileBytes(BlockFormat f) {
        return switch (f) {
            case Q4_K -> 1152;
            case Q5_K -> 1408;
            case Q6_K -> 1664;
            default -> throw new IllegalArgumentException(f + " has no native layout");
        };
    }

    /** Bytes of one set: its superblocks one after the other. */
    static long setBytes(BlockFormat f, int cols) {
        return (long) (headerBytes(f) + TILES * tileBytes(f)) * (cols / SUPERBLOCK);
    }

    /**
     * The first {@code sets * 64} rows of {@code data} (row-major blocks of {@code f}, {@code cols} per row) in the
     * native layout, in a new segment of {@code arena}'s.
     */
    static MemorySegment repack(BlockFormat f, MemorySegment data, int sets, int cols, Arena arena) {
        int superblocks = cols / SUPERBLOCK;
        long setBytes = setBytes(f, cols);
        MemorySegment out = arena.allocate(setBytes * sets, 64);
        byte[] levels = new byte[SUPERBLOCK];
        int[] scales = new int[2 * SUPERBLOCK / 16];
        float[] factors = new float[2];
        int header = headerBytes(f);
        int tileBytes = tileBytes(f);
        long rowBytes = (long) superblocks * f.blockBytes;
        for (int set = 0; set < sets; set++) {
            for (int s = 0; s < superblocks; s++) {
                long sb = set * setBytes + (long) s * (header + TILES * tileBytes);
                for (int r = 0; r < SET_ROWS; r++) {
                    long block = (long) (set * SET_ROWS + r) * rowBytes + (long) s * f.blockBytes;
                    f.decode(data, block, levels, scales, factors);
                    // The float16 scales as stored: Q4_K/Q5_K [d][dmin] at the block's start, Q6_K d at its end.
                    if (f == BlockFormat.Q6_K) {
                        copyShort(data, block + 208, out, sb + 2L * r);
                    } else {
                        copyShort(data, block, out, sb + 2L * r);
                        copyShort(data, block + 2, out, sb + 2L * SET_ROWS + 2L * r);
                    }
                    for (int k = 0; k < TILES; k++) {
                        long tile = sb + header + (long) k * tileBytes;
                        writeTile(f, levels, scales, k, r, out, tile);
                    }
                }
            }
        }
        return out;
    }

    /** Row {@code r}'s part of tile {@code k}: its scales, its nibble pairs and (Q5_K, Q6_K) its high-bit planes. */
    private static void writeTile(BlockFormat f, byte[] levels, int[] scales, int k, int r, MemorySegment out,
                                  long tile) {
        boolean q6 = f == BlockFormat.Q6_K;
        // Q4_K/Q5_K: the tile's one scale and min (its two halves share them); Q6_K: the halves' int8 scales.
        out.set(ValueLayout.JAVA_BYTE, tile + r, (byte) scales[2 * k]);
        out.set(ValueLayout.JAVA_BYTE, tile + SET_ROWS + r, (byte) (q6 ? scales[2 * k + 1] : scales[16 + 2 * k]));
        int offset = q6 ? 32 : 0;
        long pairs = tile + 2 * SET_ROWS;
        for (int p = 0; p < 4; p++) {
            for (int b = 0; b < 4; b++) {
                int lo = (levels[tileStart(k) + 8 * p + b] + offset) & 0x0f;
                int hi = (levels[tileStart(k) + 8 * p + 4 + b] + offset) & 0x0f;
                out.set(ValueLayout.JAVA_BYTE, pairs + p * 256L + 4L * r + b, (byte) (lo | hi << 4));
            }
        }
        long planes = pairs + 4 * 256;
        if (f == BlockFormat.Q5_K) {
            for (int b = 0; b < 4; b++) {
                int bits = 0;
                for (int i = 0; i < 8; i++) {
                    bits |= ((levels[tileStart(k) + 4 * i + b] >> 4) & 1) << i;
                }
                out.set(ValueLayout.JAVA_BYTE, planes + 4L * r + b, (byte) bits);
            }
        } else if (q6) {
            for (int h = 0; h < 2; h++) {
                for (int b = 0; b < 4; b++) {
                    int bits = 0;
                    for (int i = 0; i < 4; i++) {
                        bits |= (((levels[tileStart(k) + 16 * h + 4 * i + b] + offset) >> 4) & 3) << (2 * i);
                    }
                    out.set(ValueLayout.JAVA_BYTE, planes + h * 256L + 4L * r + b, (byte) bits);
                }
            }
        }
    }

    private static int tileStart(int k) {
        return k * WeightTensor.TILE;
    }

    private static void copyShort(MemorySegment from, long at, MemorySegment to, long where) {
        to.set(ValueLayout.JAVA_SHORT_UNALIGNED, where, from.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
    }
}
