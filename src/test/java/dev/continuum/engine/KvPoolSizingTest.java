package dev.continuum.engine;

import dev.continuum.runner.ModelShape;
import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** One pool-size rule for the server and the benchmarks. */
class KvPoolSizingTest {
    /** 1 KiB per token: a block of 16 is 16 KiB. */
    private static final ModelShape SHAPE = new ModelShape(32000, 4096, 12, 1024);

    @Test
    void aBudgetBuysWhatItPaysFor() {
        // 1 MiB buys 64 blocks; 8 sequences of 512 tokens could use 256.
        assertEquals(64, KvPoolSizing.blocks(SHAPE, 16, 512, 8, 1 << 20, OptionalInt.empty()));
    }

    @Test
    void neverMoreThanEverySequenceAtFullLengthUses() {
        assertEquals(8 * 32, KvPoolSizing.blocks(SHAPE, 16, 512, 8, Long.MAX_VALUE, OptionalInt.empty()));
    }

    @Test
    void neverLessThanOneFullLengthSequenceNeeds() {
        assertEquals(32, KvPoolSizing.blocks(SHAPE, 16, 512, 8, 1024, OptionalInt.empty()));
        assertEquals(32, KvPoolSizing.blocks(SHAPE, 16, 512, 8, Long.MAX_VALUE, OptionalInt.of(3)));
    }

    @Test
    void anOperatorsBlockCountOverridesTheBudget() {
        assertEquals(1000, KvPoolSizing.blocks(SHAPE, 16, 512, 8, 1 << 20, OptionalInt.of(1000)));
    }

    @Test
    void absurdLimitsAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> KvPoolSizing.blocks(SHAPE, 0, 512, 8, 1 << 20, OptionalInt.empty()));
        assertThrows(IllegalArgumentException.class,
                () -> KvPoolSizing.blocks(SHAPE, 16, 512, 8, -1, OptionalInt.empty()));
    }
}
