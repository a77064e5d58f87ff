package dev.continuum.kvcache;

/**
 * The host-side half of the paged KV cache: which blocks each sequence slot holds, and which are free. It never
 * sees keys or values; those live in the model runner, in whatever layout its kernels want, and are named by the
 * block ids handed out here. Only the scheduler (the engine thread) calls it.
 *
 * <p>Slot {@code s}'s block table row {@code tables()[s]} maps its positions to blocks: entry {@code j} holds
 * positions {@code [j * blockSize, (j + 1) * blockSize)}. Every call that edits a row records the slot as
 * changed, so a runner with its own copy of the tables (a device) refreshes only those rows
 * ({@link #changedSlotCount}, {@link #clearChanged}).
 *
 * <p>Blocks are reference-counted: sequences forked from one prompt share its full blocks, and prefix caching can
 * later share blocks found by content the same way. The invariant that makes sharing safe: a block held by more
 * than one sequence is full and never written again. {@link #fork} copies the partial last block instead of
 * sharing it, and {@link #truncate} into a shared block first gives the sequence a private copy.
 */
public final class BlockManager {
    private final int blockSize;
    private final BlockAllocator allocator;
    private final int[][] tables;
    private final int[] blockCounts;
    private final int[] changedSlots;
    private final boolean[] slotChanged;
    private int changedSlotCount;

    /**
     * @param blocks                 blocks in the pool
     * @param blockSize              positions per block
     * @param slots                  sequence slots (block table rows)
     * @param maxTokensPerSequence   longest sequence a slot can hold
     */
    public BlockManager(int blocks, int blockSize, int slots, int maxTokensPerSequence) {
        if (blockSize < 1 || slots < 1 || maxTokensPerSequence < 1) {
            throw new IllegalArgumentException("block size " + blockSize + ", slots " + slots
                    + " and tokens per sequence " + maxTokensPerSequence + " must be positive");
        }
        this.blockSize = blockSize;
        this.allocator = new BlockAllocator(blocks);
        this.tables = new int[slots][blocksFor(maxTokensPerSequence)];
        this.blockCounts = new int[slots];
        this.changedSlots = new int[slots];
        this.slotChanged = new boolean[slots];
    }

    public int blockSize() {
        return blockSize;
    }

    public int slots() {
        return tables.length;
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

    /** Fraction of the pool's blocks in use. */
    public double usage() {
        return allocator.usedBlocks() / (double) allocator.totalBlocks();
    }

    /** Blocks a sequence needs to hold {@code tokens} positions. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    public int blocksHeld(int slot) {
        return blockCounts[slot];
    }

    /** Holders of block {@code block}: 0 when free, more than 1 when shared. */
    public int refCount(int block) {
        return allocator.refCount(block);
    }

    /** All block tables, one row per slot; entries past a slot's {@link #blocksHeld} are stale. Read only. */
    public int[][] tables() {
        return tables;
    }

    /**
     * Makes sure slot {@code slot} has blocks for positions {@code [0, tokens)}. All or nothing: returns false,
     * holding what it held before, when the pool cannot supply them.
     *
     * @throws IllegalArgumentException when {@code tokens} exceeds the per-sequence limit
     */
    public boolean reserve(int slot, int tokens) {
        int need = blocksFor(tokens);
        if (need > tables[slot].length) {
            throw new IllegalArgumentException("a sequence of " + tokens + " tokens exceeds the per-sequence limit of "
                    + tables[slot].length * blockSize);
        }
        int have = blockCounts[slot];
        if (need <= have) {
            return true;
        }
        if (need - have > allocator.freeBlocks()) {
            return false;
        }
        for (int i = have; i < need; i++) {
            tables[slot][i] = allocator.allocate();
        }
        blockCounts[slot] = need;
        markChanged(slot);
        return true;
    }

    /** Returns all of a slot's blocks to the pool (a shared block stays with its other holders). */
    public void release(int slot) {
        if (blockCounts[slot] == 0) {
            return;
        }
        for (int i = 0; i < blockCounts[slot]; i++) {
            allocator.release(tables[slot][i]);
        }
        blockCounts[slot] = 0;
        markChanged(slot);
    }

    /**
     * Gives slot {@code child} the cached first {@code tokens} positions of slot {@code parent}: full blocks are
     * shared, the partial last block (which the child will write into) is copied through {@code copier}. Returns
     * false, changing nothing, when no block is free for the copy.
     */
    public boolean fork(int parent, int child, int tokens, BlockCopier copier) {
        if (blockCounts[child] != 0) {
            throw new IllegalStateException("fork target slot " + child + " still holds blocks");
        }
        if (blocksFor(tokens) > blockCounts[parent]) {
            throw new IllegalArgumentException("slot " + parent + " holds " + blockCounts[parent]
                    + " blocks, fewer than " + tokens + " tokens need");
        }
        int full = tokens / blockSize;
        boolean partial = tokens % blockSize != 0;
        if (partial && allocator.freeBlocks() == 0) {
            return false;
        }
        for (int i = 0; i < full; i++) {
            allocator.retain(tables[parent][i]);
            tables[child][i] = tables[parent][i];
        }
        if (partial) {
            int copy = allocator.allocate();
            copier.copy(tables[parent][full], copy);
            tables[child][full] = copy;
        }
        blockCounts[child] = full + (partial ? 1 : 0);
        markChanged(child);
        return true;
    }

    /**
     * Shortens slot {@code slot} to its first {@code tokens} positions, returning the blocks past them to the pool:
     * what rejected speculative tokens took. When the new last block is partial and shared, the slot first gets a
     * private copy of it (through {@code copier}), since its next write lands there. Returns false, changing
     * nothing, when that copy needs a block and none is free.
     */
    public boolean truncate(int slot, int tokens, BlockCopier copier) {
        if (tokens < 0) {
            throw new IllegalArgumentException("cannot truncate to " + tokens + " tokens");
        }
        int keep = Math.min(blocksFor(tokens), blockCounts[slot]);
        int have = blockCounts[slot];
        int last = keep - 1;
        boolean copyLast = tokens % blockSize != 0 && keep == blocksFor(tokens)
                && allocator.refCount(tables[slot][last]) > 1;
        if (keep == have && !copyLast) {
            return true;
        }
        if (copyLast && allocator.freeBlocks() + blocksFreedPast(slot, keep) == 0) {
            return false;
        }
        for (int i = keep; i < have; i++) {
            allocator.release(tables[slot][i]);
        }
        if (copyLast) {
            int copy = allocator.allocate();
            copier.copy(tables[slot][last], copy);
            allocator.release(tables[slot][last]);
            tables[slot][last] = copy;
        }
        blockCounts[slot] = keep;
        markChanged(slot);
        return true;
    }

    /** Blocks that would return to the pool if slot {@code slot} let go of its table entries from {@code from} on. */
    private int blocksFreedPast(int slot, int from) {
        int freed = 0;
        for (int i = from; i < blockCounts[slot]; i++) {
            if (allocator.refCount(tables[slot][i]) == 1) {
                freed++;
            }
        }
        return freed;
    }

    /** Slots whose table rows changed since the last {@link #clearChanged}. */
    public int changedSlotCount() {
        return changedSlotCount;
    }

    public int changedSlot(int i) {
        return changedSlots[i];
    }

    public void clearChanged() {
        for (int i = 0; i < changedSlotCount; i++) {
            slotChanged[changedSlots[i]] = false;
        }
        changedSlotCount = 0;
    }

    private void markChanged(int slot) {
        if (!slotChanged[slot]) {
            slotChanged[slot] = true;
            changedSlots[changedSlotCount++] = slot;
        }
    }
}
