package dev.continuum.kvcache;

/**
 * A paged KV cache: one pool of {@code blockSize}-token blocks per layer, and a block table per sequence slot
 * mapping its positions to blocks. Adding or dropping sequences only edits tables; no KV data moves, except the
 * one partial block copied when a sequence is forked.
 *
 * <p>Keys and values are stored as IEEE half floats (float16, as llama.cpp stores its cache), which halves the
 * memory and, more to the point, the bandwidth attention spends reading them. Each block keeps every KV head's
 * keys and values together, keys transposed:
 * <pre>
 *   keys[layer]:    block b, KV head h, dimension d, slot i  at  ((b * kvHeads + h) * headDim + d) * blockSize + i
 *   values[layer]:  block b, KV head h, slot i, dimension d  at  ((b * kvHeads + h) * blockSize + i) * headDim + d
 * </pre>
 * so one head's part of a block is a contiguous run that converts to floats in one loop, attention scores a whole
 * block of positions with one vector FMA per head dimension (the slots lie side by side), and sums values with one
 * vector FMA per position.
 */
public final class PagedKvCache {
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int kvDim;
    private final int blockSize;
    private final BlockAllocator allocator;
    private final short[][] keys;
    private final short[][] values;
    private final int[][] tables;
    private final int[] blockCounts;

    public PagedKvCache(int layers, int kvHeads, int headDim, int blockSize, int blocks, int sequenceSlots,
                        int maxTokensPerSequence) {
        long floats = (long) blocks * blockSize * kvHeads * headDim;
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + blocks + " blocks x " + blockSize + " tokens x "
                    + kvHeads * headDim + " floats exceeds one array per layer; lower the KV cache size");
        }
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.blockSize = blockSize;
        this.allocator = new BlockAllocator(blocks);
        this.keys = new short[layers][(int) floats];
        this.values = new short[layers][(int) floats];
        int maxBlocks = (maxTokensPerSequence + blockSize - 1) / blockSize;
        this.tables = new int[sequenceSlots][maxBlocks];
        this.blockCounts = new int[sequenceSlots];
    }

    /** A cache of {@code sequences} slots each already holding blocks for {@code tokens} positions. */
    public static PagedKvCache reserved(int layers, int kvHeads, int headDim, int sequences, int tokens) {
        int blockSize = 16;
        int perSequence = (tokens + blockSize - 1) / blockSize;
        PagedKvCache kv = new PagedKvCache(layers, kvHeads, headDim, blockSize, Math.max(1, perSequence * sequences),
                sequences, Math.max(1, tokens));
        for (int s = 0; s < sequences; s++) {
            kv.reserve(s, tokens);
        }
        return kv;
    }

    /** Bytes of KV storage one token takes across all layers (keys and values, float16). */
    public static long bytesPerToken(int layers, int kvDim) {
        return 2L * layers * kvDim * Short.BYTES;
    }

    public int layers() {
        return layers;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public int kvDim() {
        return kvDim;
    }

    public int blockSize() {
        return blockSize;
    }

    public int totalBlocks() {
        return allocator.totalBlocks();
    }

    public int freeBlocks() {
        return allocator.freeBlocks();
    }

    public int usedBlocks() {
        return allocator.usedBlocks();
    }

    public double usage() {
        return allocator.usedBlocks() / (double) allocator.totalBlocks();
    }

    /** Blocks a sequence needs to hold {@code tokens} positions. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    public int blocksHeld(int seq) {
        return blockCounts[seq];
    }

    /** The block table of sequence slot {@code seq}: entry {@code j} is the block holding positions {@code [j*blockSize, (j+1)*blockSize)}. */
    public int[] blockTable(int seq) {
        return tables[seq];
    }

    /**
     * Makes sure sequence {@code seq} has blocks for positions {@code [0, tokens)}. All or nothing: returns false,
     * holding what it held before, when the pool cannot supply them.
     */
    public boolean reserve(int seq, int tokens) {
        int need = blocksFor(tokens);
        if (need > tables[seq].length) {
            throw new IllegalArgumentException("sequence needs " + tokens + " tokens, more than the per-sequence limit");
        }
        int have = blockCounts[seq];
        if (need - have > allocator.freeBlocks()) {
            return false;
        }
        for (int i = have; i < need; i++) {
            tables[seq][i] = allocator.allocate();
        }
        blockCounts[seq] = Math.max(have, need);
        return true;
    }

    /** Returns all of a sequence's blocks to the pool. */
    public void release(int seq) {
        for (int i = 0; i < blockCounts[seq]; i++) {
            allocator.release(tables[seq][i]);
        }
        blockCounts[seq] = 0;
    }

    /**
     * Gives {@code child} the cached first {@code tokens} positions of {@code parent}: full blocks are shared, the
     * last partial block (which the child will write into) is copied. Returns false when no block is free for the
     * copy; the child then holds nothing.
     */
    public boolean fork(int parent, int child, int tokens) {
        if (blockCounts[child] != 0) {
            throw new IllegalStateException("fork target slot " + child + " still holds blocks");
        }
        int full = tokens / blockSize;
        int partial = tokens % blockSize;
        if (partial > 0 && allocator.freeBlocks() == 0) {
            return false;
        }
        for (int i = 0; i < full; i++) {
            allocator.retain(tables[parent][i]);
            tables[child][i] = tables[parent][i];
        }
        blockCounts[child] = full;
        if (partial > 0) {
            int src = tables[parent][full];
            int dst = allocator.allocate();
            int blockFloats = blockSize * kvDim;
            for (int l = 0; l < layers; l++) {
                System.arraycopy(keys[l], src * blockFloats, keys[l], dst * blockFloats, blockFloats);
                System.arraycopy(values[l], src * blockFloats, values[l], dst * blockFloats, blockFloats);
            }
            tables[child][full] = dst;
            blockCounts[child] = full + 1;
        }
        return true;
    }

    /**
     * Stores the key {@code k[ko .. ko+kvDim)} and value {@code v[vo ..]} of sequence {@code seq} at {@code pos},
     * rounded to float16.
     */
    public void write(int layer, int seq, int pos, float[] k, int ko, float[] v, int vo) {
        int block = tables[seq][pos / blockSize];
        int slot = pos % blockSize;
        short[] keyStore = keys[layer];
        int keyBase = block * kvDim * blockSize + slot;
        for (int j = 0; j < kvDim; j++) {
            keyStore[keyBase + j * blockSize] = Float.floatToFloat16(k[ko + j]);
        }
        short[] valueStore = values[layer];
        for (int h = 0; h < kvHeads; h++) {
            int valueBase = ((block * kvHeads + h) * blockSize + slot) * headDim;
            for (int d = 0; d < headDim; d++) {
                valueStore[valueBase + d] = Float.floatToFloat16(v[vo + h * headDim + d]);
            }
        }
    }

    /** Keys of one layer as float16 bits, in the transposed block layout described on the class. */
    public short[] keys(int layer) {
        return keys[layer];
    }

    /** Values of one layer as float16 bits, in the head-major block layout described on the class. */
    public short[] values(int layer) {
        return values[layer];
    }
}
