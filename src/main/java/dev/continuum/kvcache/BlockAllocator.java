package dev.continuum.kvcache;

/**
 * Hands out fixed-size KV blocks from one preallocated pool. Blocks are reference-counted so sequences forked
 * from one prompt (n > 1) can share the prompt's full blocks; a block returns to the pool when its last holder
 * releases it. Single-threaded: only the engine thread calls it.
 */
public final class BlockAllocator {
    private final int[] refCounts;
    private final int[] free;
    private int freeCount;

    public BlockAllocator(int blocks) {
        if (blocks <= 0) {
            throw new IllegalArgumentException("the KV cache needs at least one block, got " + blocks);
        }
        refCounts = new int[blocks];
        free = new int[blocks];
        // Hand out low ids first, so a lightly used cache touches little memory.
        for (int i = 0; i < blocks; i++) {
            free[i] = blocks - 1 - i;
        }
        freeCount = blocks;
    }

    /** A fresh block with one holder, or -1 when the pool is empty. */
    public int allocate() {
        if (freeCount == 0) {
            return -1;
        }
        int b = free[--freeCount];
        refCounts[b] = 1;
        return b;
    }

    public void retain(int block) {
        if (refCounts[block] <= 0) {
            throw new IllegalStateException("block " + block + " is not allocated");
        }
        refCounts[block]++;
    }

    public void release(int block) {
        if (refCounts[block] <= 0) {
            throw new IllegalStateException("block " + block + " released twice");
        }
        if (--refCounts[block] == 0) {
            free[freeCount++] = block;
        }
    }

    public int refCount(int block) {
        return refCounts[block];
    }

    public int totalBlocks() {
        return refCounts.length;
    }

    public int freeBlocks() {
        return freeCount;
    }

    public int usedBlocks() {
        return refCounts.length - freeCount;
    }
}
