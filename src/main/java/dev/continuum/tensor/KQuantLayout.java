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
 * Q4_K and Q5_K 2-3 % larger than the file, and Q6_K's levels as whole bytes 30 % larger. The row-major bytes still serve the embedding
 * lookup, the rows after the last whole set and {@link WeightTensor#writeRowMajor}.
 */
final class KQuantLayout {
    static final int SET_ROWS = 64;
    private static final int SUPERBLOCK = 256;

    private KQuantLayout() {
    }

    /** Whether the native kernels have this format. */
    static boolean covers(BlockFormat f) {
        return switch (f) {
            case Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    private static int headerBytes(BlockFormat f) {
        return f.hasMin ? 4 * SET_ROWS : 2 * SET_ROWS;
    }

    private static int tileBytes(BlockFormat f) {
        return switch (f) {
            case Q4_1, IQ4_NL -> 1024;
            case Q5_0, Q5_1 -> 1280;
            case Q2_K -> 768;
            case Q3_K -> 896;
            case Q4_K -> 1152;
            case Q5_K -> 1408;
            case Q6_K -> 2176;
            default -> throw new IllegalArgumentException(f + " has no native layout");
        };
    }

    /** Byte offset of the float16 {@code d} in a block of {@code f} ({@code dmin} follows it where there is one). */
    private static int dOffset(BlockFormat f) {
        return switch (f) {
            case Q2_K -> 80;
            case Q3_K -> 108;
            case Q6_K -> 208;
            default -> 0;
        };
    }

    /** What the stored unsigned level exceeds the format's level by (the kernels take it off with the sums). */
    private static int levelOffset(BlockFormat f) {
        return switch (f) {
            case Q6_K -> 32;
            case Q3_K -> 4;
            case Q5_0 -> 16;
            default -> 0;
        };
    }

    /** Bytes of one block of a set: the header and the block's tiles. */
    private static int blockBytes(BlockFormat f) {
        return headerBytes(f) + f.blockSize / WeightTensor.TILE * tileBytes(f);
    }

    /** Bytes of one set: its blocks one after the other. */
    static long setBytes(BlockFormat f, int cols) {
        return (long) blockBytes(f) * (cols / f.blockSize);
    }

    /**
     * The first {@code sets * 64} rows of {@code data} (row-major blocks of {@code f}, {@code cols} per row) in the
     * native layout, in a new segment of {@code arena}'s.
     */
    static MemorySegment repack(BlockFormat f, MemorySegment data, int sets, int cols, Arena arena) {
        int blocks = cols / f.blockSize;
        int tiles = f.blockSize / WeightTensor.TILE;
        long setBytes = setBytes(f, cols);
        MemorySegment out = arena.allocate(setBytes * sets, 64);
        byte[] levels = new byte[SUPERBLOCK];
        int[] scales = new int[2 * SUPERBLOCK / 16];
        float[] factors = new float[2];
        int header = headerBytes(f);
        int tileBytes = tileBytes(f);
        long rowBytes = (long) blocks * f.blockBytes;
        for (int set = 0; set < sets; set++) {
            for (int s = 0; s < blocks; s++) {
                long sb = set * setBytes + (long) s * blockBytes(f);
                for (int r = 0; r < SET_ROWS; r++) {
                    long block = (long) (set * SET_ROWS + r) * rowBytes + (long) s * f.blockBytes;
                    f.decode(data, block, levels, scales, factors);
                    // The float16 scales as stored in the block: d, and dmin right after it where there is one.
                    copyShort(data, block + dOffset(f), out, sb + 2L * r);
                    if (f.hasMin) {
                        copyShort(data, block + dOffset(f) + 2, out, sb + 2L * SET_ROWS + 2L * r);
                    }
                    for (int k = 0; k < tiles; k++) {
                        long tile = sb + header + (long) k * tileBytes;
                        writeTile(f, levels, scales, k, r, out, tile);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Row {@code r}'s part of tile {@code k}: its scales (and mins), then its levels as unsigned bytes' worth of
     * nibble pairs, 2-bit planes (Q2_K, Q3_K) or whole bytes (Q6_K), then the high-bit plane where there is one.
     */
    private static void writeTile(BlockFormat f, byte[] levels, int[] scales, int k, int r, MemorySegment out,
                                  long tile) {
        int[] u = new int[WeightTensor.TILE];
        for (int j = 0; j < u.length; j++) {
            u[j] = f == BlockFormat.IQ4_NL ? tableIndex(levels[tileStart(k) + j])
                    : levels[tileStart(k) + j] + levelOffset(f);
        }
        long levelsAt;
        switch (f) {
            case Q4_1, Q5_0, Q5_1, IQ4_NL -> levelsAt = tile; // one scale per block, in the header
            case Q4_K, Q5_K -> {
                // The tile's one scale and min: its two halves share them.
                put(out, tile + r, scales[2 * k]);
                put(out, tile + SET_ROWS + r, scales[f.halves + 2 * k]);
                levelsAt = tile + 2 * SET_ROWS;
            }
            case Q2_K -> {
                put(out, tile + r, scales[2 * k]);
                put(out, tile + SET_ROWS + r, scales[2 * k + 1]);
                put(out, tile + 2 * SET_ROWS + r, scales[f.halves + 2 * k]);
                put(out, tile + 3 * SET_ROWS + r, scales[f.halves + 2 * k + 1]);
                levelsAt = tile + 4 * SET_ROWS;
            }
            default -> {
                // Q3_K, Q6_K: the halves' signed scales.
                put(out, tile + r, scales[2 * k]);
                put(out, tile + SET_ROWS + r, scales[2 * k + 1]);
                levelsAt = tile + 2 * SET_ROWS;
            }
        }
        long planes = levelsAt;
        if (f == BlockFormat.Q6_K) {
            // Quad i: row r's 4 bytes, byte b the level of column 4i + b.
            for (int j = 0; j < u.length; j++) {
                put(out, levelsAt + (j / 4) * 256L + 4L * r + (j % 4), u[j]);
            }
        } else if (f != BlockFormat.Q2_K && f != BlockFormat.Q3_K) {
            for (int p = 0; p < 4; p++) {
                for (int b = 0; b < 4; b++) {
                    put(out, levelsAt + p * 256L + 4L * r + b, (u[8 * p + b] & 0x0f) | (u[8 * p + 4 + b] & 0x0f) << 4);
                }
            }
            planes = levelsAt + 4 * 256;
        } else {
            twoBitPlanes(u, 0, out, levelsAt, r);
            planes = levelsAt + 2 * 256;
        }
        switch (f) {
            case Q5_K, Q5_0, Q5_1 -> oneBitPlane(u, 4, out, planes, r);
            case Q3_K -> oneBitPlane(u, 2, out, planes, r);
            default -> {
            }
        }
    }

    /** Bits {@code shift, shift + 1} of the levels as two half planes: byte b, bits 2i of half h: column 16h + 4i + b. */
    private static void twoBitPlanes(int[] u, int shift, MemorySegment out, long at, int r) {
        for (int h = 0; h < 2; h++) {
            for (int b = 0; b < 4; b++) {
                int bits = 0;
                for (int i = 0; i < 4; i++) {
                    bits |= ((u[16 * h + 4 * i + b] >> shift) & 3) << (2 * i);
                }
                put(out, at + h * 256L + 4L * r + b, bits);
            }
        }
    }

    /** Bit {@code shift} of the levels as one plane: byte b, bit i: column 4i + b. */
    private static void oneBitPlane(int[] u, int shift, MemorySegment out, long at, int r) {
        for (int b = 0; b < 4; b++) {
            int bits = 0;
            for (int i = 0; i < 8; i++) {
                bits |= ((u[4 * i + b] >> shift) & 1) << i;
            }
            put(out, at + 4L * r + b, bits);
        }
    }

    /** IQ4_NL stores the index of its level in the table, which the kernel maps back ({@code vpshufb}). */
    private static int tableIndex(byte level) {
        for (int i = 0; i < BlockFormat.KVALUES.length; i++) {
            if (BlockFormat.KVALUES[i] == level) {
                return i;
            }
        }
        throw new IllegalStateException("not an IQ4_NL level: " + level);
    }

    private static void put(MemorySegment out, long at, int value) {
        out.set(ValueLayout.JAVA_BYTE, at, (byte) value);
    }

    private static int tileStart(int k) {
        return k * WeightTensor.TILE;
    }

    private static void copyShort(MemorySegment from, long at, MemorySegment to, long where) {
        to.set(ValueLayout.JAVA_SHORT_UNALIGNED, where, from.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
    }
}
