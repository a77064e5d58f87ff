package dev.continuum.engine;

import dev.continuum.runner.ModelShape;

import java.util.OptionalInt;

/**
 * How many KV blocks the engine's pool gets, computed in one place for the server and the benchmarks alike: what
 * a byte budget buys at the runner's bytes per token, never more than every sequence at full length could use,
 * never less than one full-length sequence needs.
 */
public final class KvPoolSizing {
    private KvPoolSizing() {
    }

    /**
     * @param shape        the model, for its KV bytes per token
     * @param blockSize    positions per block
     * @param maxModelLen  longest sequence served
     * @param maxNumSeqs   sequences decoding at once
     * @param budgetBytes  memory the pool may take ({@code Long.MAX_VALUE}: as much as is useful)
     * @param fixedBlocks  a block count set by the operator, overriding the budget
     */
    public static int blocks(ModelShape shape, int blockSize, int maxModelLen, int maxNumSeqs, long budgetBytes,
                             OptionalInt fixedBlocks) {
        if (blockSize < 1 || maxModelLen < 1 || maxNumSeqs < 1 || budgetBytes < 0) {
            throw new IllegalArgumentException("KV pool sizing needs positive limits");
        }
        long blocksPerSequence = (maxModelLen + blockSize - 1) / blockSize;
        long useful = blocksPerSequence * maxNumSeqs;
        long blocks = fixedBlocks.isPresent() ? fixedBlocks.getAsInt()
                : Math.min(useful, budgetBytes / shape.kvBytesPerBlock(blockSize));
        blocks = Math.max(blocks, blocksPerSequence);
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a KV pool of " + blocks + " blocks is too large");
        }
        return (int) blocks;
    }
}
