package dev.continuum.model;

/**
 * The CPU runner's KV data: one pool of {@code blockSize}-position blocks per layer, addressed by the block ids
 * the engine's block manager hands out. Keys and values are stored as IEEE half floats (float16, as llama.cpp
 * stores its cache), which halves the memory and, more to the point, the bandwidth attention spends reading them.
 * Each block keeps every KV head's keys and values together, keys transposed:
 * <pre>
 *   keys[layer]:    block b, KV head h, dimension d, slot i  at  ((b * kvHeads + h) * headDim + d) * blockSize + i
 *   values[layer]:  block b, KV head h, slot i, dimension d  at  ((b * kvHeads + h) * blockSize + i) * headDim + d
 * </pre>
 * so one head's part of a block is a contiguous run that converts to floats in one loop, attention scores a whole
 * block of positions with one vector FMA per head dimension (the slots lie side by side), and sums values with one
 * vector FMA per position.
 */
final class Float16KvStore {
    private final int kvHeads;
    private final int headDim;
    private final int kvDim;
    private final int blockSize;
    private final int blocks;
    private final short[][] keys;
    private final short[][] values;

    Float16KvStore(int layers, int kvHeads, int headDim, int blocks, int blockSize) {
        long halves = (long) blocks * blockSize * kvHeads * headDim;
        if (blocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("a KV store needs blocks (" + blocks + ") of positions (" + blockSize + ")");
        }
        if (halves > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + blocks + " blocks x " + blockSize + " tokens x "
                    + kvHeads * headDim + " values exceeds one array per layer; lower the KV cache size");
        }
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.blockSize = blockSize;
        this.blocks = blocks;
        this.keys = new short[layers][(int) halves];
        this.values = new short[layers][(int) halves];
    }

    /** Bytes of storage one token takes across all layers (keys and values, float16). */
    static long bytesPerToken(LlamaConfig c) {
        return 2L * c.layers() * c.kvDim() * Short.BYTES;
    }

    int blockSize() {
        return blockSize;
    }

    int blocks() {
        return blocks;
    }

    int kvHeads() {
        return kvHeads;
    }

    int headDim() {
        return headDim;
    }

    /**
     * Stores the key {@code k[ko .. ko+kvDim)} and value {@code v[vo ..]} at position {@code offset} of block
     * {@code block}, rounded to float16.
     */
    void write(int layer, int block, int offset, float[] k, int ko, float[] v, int vo) {
        short[] keyStore = keys[layer];
        int keyBase = block * kvDim * blockSize + offset;
        for (int j = 0; j < kvDim; j++) {
            keyStore[keyBase + j * blockSize] = Float.floatToFloat16(k[ko + j]);
        }
        short[] valueStore = values[layer];
        for (int h = 0; h < kvHeads; h++) {
            int valueBase = ((block * kvHeads + h) * blockSize + offset) * headDim;
            for (int d = 0; d < headDim; d++) {
                valueStore[valueBase + d] = Float.floatToFloat16(v[vo + h * headDim + d]);
            }
        }
    }

    /** Copies every layer's keys and values of block {@code src} into block {@code dst}. */
    void copyBlock(int src, int dst) {
        if (src < 0 || src >= blocks || dst < 0 || dst >= blocks) {
            throw new IllegalArgumentException("block copy " + src + " -> " + dst + " outside 0.." + (blocks - 1));
        }
        int blockHalves = blockSize * kvDim;
        for (int l = 0; l < keys.length; l++) {
            System.arraycopy(keys[l], src * blockHalves, keys[l], dst * blockHalves, blockHalves);
            System.arraycopy(values[l], src * blockHalves, values[l], dst * blockHalves, blockHalves);
        }
    }

    /** Keys of one layer as float16 bits, in the transposed block layout described on the class. */
    short[] keys(int layer) {
        return keys[layer];
    }

    /** Values of one layer as float16 bits, in the head-major block layout described on the class. */
    short[] values(int layer) {
        return values[layer];
    }
}
