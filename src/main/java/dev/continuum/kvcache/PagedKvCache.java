package dev.continuum.kvcache;

/**
 * A paged KV cache: one pool of {@code blockSize}-token blocks per layer, and a block table per sequence slot
 * mapping its positions to blocks. Adding or dropping sequences only edits tables; no KV data moves, except the
 * one partial block copied when a sequence is forked.
 */
public final class PagedKvCache implements KvCache {
    private final int layers;
    private final int kvDim;
    private final int blockSize;
    private final BlockAllocator allocator;
    private final float[][] keys;
    private final float[][] values;
    private final int[][] tables;
    private final int[] blockCounts;

    public PagedKvCache(int layers, int kvDim, int blockSize, int blocks, int sequenceSlots, int maxTokensPerSequence) {
        long floats = (long) blocks * blockSize * kvDim;
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + blocks + " blocks x " + blockSize + " tokens x " + kvDim
                    + " floats exceeds one array per layer; lower the KV cache size");
        }
        this.layers = layers;
        this.kvDim = kvDim;
        this.blockSize = blockSize;
        this.allocator = new BlockAllocator(blocks);
        this.keys = new float[layers][(int) floats];
        this.values = new float[layers][(int) floats];
        int maxBlocks = (maxTokensPerSequence + blockSize - 1) / blockSize;
        this.tables = new int[sequenceSlots][maxBlocks];
        this.blockCounts = new int[sequenceSlots];
    }

    /** Bytes of KV storage one token takes across all layers (keys and values, float32). */
    public static long bytesPerToken(int layers, int kvDim) {
        return 2L * layers * kvDim * Float.BYTES;
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
            int count = partial * kvDim;
            for (int l = 0; l < layers; l++) {
                System.arraycopy(keys[l], src * blockSize * kvDim, keys[l], dst * blockSize * kvDim, count);
                System.arraycopy(values[l], src * blockSize * kvDim, values[l], dst * blockSize * kvDim, count);
            }
            tables[child][full] = dst;
            blockCounts[child] = full + 1;
        }
        return true;
    }

    @Override
    public int layers() {
        return layers;
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public int slot(int seq, int pos) {
        return tables[seq][pos / blockSize] * blockSize + pos % blockSize;
    }

    @Override
    public float[] keys(int layer) {
        return keys[layer];
    }

    @Override
    public float[] values(int layer) {
        return values[layer];
    }
}
