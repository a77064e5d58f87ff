package dev.continuum.kvcache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host-side block manager: reservation, release, forks sharing full blocks, truncation, changed rows. */
class BlockManagerTest {
    /** Records the copies asked for, as (src, dst) pairs. */
    private static final class Copies implements BlockCopier {
        final List<int[]> done = new ArrayList<>();

        @Override
        public void copy(int src, int dst) {
            done.add(new int[]{src, dst});
        }
    }

    private static int[] changed(BlockManager m) {
        int[] out = new int[m.changedSlotCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.changedSlot(i);
        }
        m.clearChanged();
        return out;
    }

    @Test
    void reserveIsAllOrNothing() {
        BlockManager m = new BlockManager(4, 4, 2, 32);
        assertTrue(m.reserve(0, 9)); // 3 blocks
        assertEquals(3, m.blocksHeld(0));
        assertFalse(m.reserve(1, 8), "two blocks wanted, one free");
        assertEquals(0, m.blocksHeld(1));
        assertEquals(1, m.freeBlocks());
        assertTrue(m.reserve(0, 16), "a partly held reservation takes only what is missing");
        assertEquals(0, m.freeBlocks());
        assertTrue(m.reserve(0, 5), "shrinking by reserve is a no-op");
        assertEquals(4, m.blocksHeld(0));
        assertThrows(IllegalArgumentException.class, () -> m.reserve(1, 33));
    }

    @Test
    void releaseReturnsBlocksAndIsIdempotent() {
        BlockManager m = new BlockManager(4, 4, 2, 32);
        m.reserve(0, 16);
        assertEquals(1.0, m.usage());
        m.release(0);
        m.release(0);
        assertEquals(0, m.usedBlocks());
        assertEquals(0, m.blocksHeld(0));
    }

    @Test
    void forkSharesFullBlocksAndCopiesThePartialOne() {
        BlockManager m = new BlockManager(8, 4, 3, 32);
        m.reserve(0, 10); // blocks for positions 0..11: two full (0..7) and one partial (8, 9)
        Copies copies = new Copies();
        assertTrue(m.fork(0, 1, 10, copies));
        int[] parent = m.tables()[0];
        int[] child = m.tables()[1];
        assertEquals(parent[0], child[0]);
        assertEquals(parent[1], child[1]);
        assertNotEquals(parent[2], child[2]);
        assertEquals(2, m.refCount(parent[0]));
        assertEquals(1, copies.done.size());
        assertArrayEquals(new int[]{parent[2], child[2]}, copies.done.get(0));
        assertEquals(4, m.usedBlocks());
        // A block-aligned fork copies nothing.
        assertTrue(m.fork(0, 2, 8, copies));
        assertEquals(1, copies.done.size());
        assertEquals(3, m.refCount(parent[0]));
        m.release(0);
        m.release(1);
        m.release(2);
        assertEquals(0, m.usedBlocks(), "shared blocks return after their last holder");
    }

    @Test
    void forkWithoutAFreeBlockChangesNothing() {
        BlockManager m = new BlockManager(3, 4, 2, 32);
        m.reserve(0, 10);
        assertFalse(m.fork(0, 1, 10, new Copies()));
        assertEquals(0, m.blocksHeld(1));
        assertEquals(1, m.refCount(m.tables()[0][0]));
    }

    @Test
    void forkIntoASlotThatHoldsBlocksIsRefused() {
        BlockManager m = new BlockManager(4, 4, 2, 32);
        m.reserve(0, 4);
        m.reserve(1, 4);
        assertThrows(IllegalStateException.class, () -> m.fork(0, 1, 4, new Copies()));
        m.release(1);
        assertThrows(IllegalArgumentException.class, () -> m.fork(0, 1, 9, new Copies()), "more than the parent holds");
    }

    @Test
    void truncateReturnsTheBlocksPastTheLength() {
        BlockManager m = new BlockManager(8, 4, 2, 32);
        m.reserve(0, 20); // 5 blocks
        int[] before = m.tables()[0].clone();
        Copies copies = new Copies();
        assertTrue(m.truncate(0, 9, copies));
        assertEquals(3, m.blocksHeld(0));
        assertEquals(5, m.freeBlocks());
        assertEquals(before[2], m.tables()[0][2], "the kept partial block is its own: no copy");
        assertTrue(copies.done.isEmpty());
        assertTrue(m.truncate(0, 12, copies), "truncating to more than is held keeps everything");
        assertEquals(3, m.blocksHeld(0));
        assertTrue(m.truncate(0, 0, copies));
        assertEquals(0, m.usedBlocks());
        assertThrows(IllegalArgumentException.class, () -> m.truncate(0, -1, copies));
    }

    @Test
    void truncatingIntoASharedBlockGivesThatSequenceAPrivateCopy() {
        BlockManager m = new BlockManager(6, 4, 2, 32);
        m.reserve(0, 8);
        Copies copies = new Copies();
        m.fork(0, 1, 8, copies); // both hold the same two full blocks
        int shared = m.tables()[1][1];
        assertTrue(m.truncate(1, 6, copies));
        assertNotEquals(shared, m.tables()[1][1], "the child writes position 6 next: not into the parent's block");
        assertArrayEquals(new int[]{shared, m.tables()[1][1]}, copies.done.get(0));
        assertEquals(1, m.refCount(shared));
        assertEquals(m.tables()[0][0], m.tables()[1][0], "the untouched full block stays shared");
    }

    @Test
    void truncatingIntoASharedBlockWithNoFreeBlockChangesNothing() {
        BlockManager m = new BlockManager(2, 4, 2, 32);
        m.reserve(0, 8);
        m.fork(0, 1, 8, new Copies());
        assertFalse(m.truncate(1, 6, new Copies()));
        assertEquals(2, m.blocksHeld(1));
        assertEquals(2, m.refCount(m.tables()[1][1]));
    }

    @Test
    void everyTableEditIsReportedOnceUntilCleared() {
        BlockManager m = new BlockManager(8, 4, 3, 32);
        m.reserve(0, 4);
        m.reserve(0, 8);
        m.reserve(2, 4);
        assertArrayEquals(new int[]{0, 2}, changed(m));
        m.reserve(0, 8);
        assertArrayEquals(new int[0], changed(m), "a reservation already held edits nothing");
        m.fork(0, 1, 6, new Copies());
        m.truncate(0, 4, new Copies());
        m.release(2);
        assertArrayEquals(new int[]{1, 0, 2}, changed(m));
    }
}
