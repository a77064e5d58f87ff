package dev.continuum.engine;

import dev.continuum.speculative.NgramProposer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two rules and what each refuses: every field of a rule is one that rule reads. */
class SpeculationTest {
    private static final TokenProposer NGRAM = new NgramProposer(2, 3);

    @Test
    void theDisableAboveOptionChoosesTheRule() {
        Speculation byCost = Speculation.of(NGRAM, Speculation.BY_COST);
        assertEquals(Speculation.ByCost.MEASURED, byCost.rule());
        assertTrue(((Speculation.ByCost) byCost.rule()).measured());
        Speculation fixed = Speculation.of(NGRAM, 8);
        Speculation.Fixed rule = assertInstanceOf(Speculation.Fixed.class, fixed.rule());
        assertEquals(8, rule.disableAbove());
        assertEquals(Speculation.DEFAULT_MIN_ACCEPTANCE, rule.minAcceptance());
        assertEquals("proposals while at most 8 sequences decode", fixed.describeRule());
        assertEquals("proposals where measured step costs say they pay", byCost.describeRule());
    }

    @Test
    void eachRuleRefusesWhatItCannotUse() {
        StepCosts costs = StepCosts.FREE;
        assertThrows(IllegalArgumentException.class, () -> new Speculation.ByCost(costs, null),
                "given costs come as both tables");
        assertThrows(IllegalArgumentException.class, () -> new Speculation.ByCost(null, costs));
        assertThrows(IllegalArgumentException.class, () -> Speculation.byCost(NGRAM, null, null),
                "byCost is for given tables; Speculation.of measures");
        assertThrows(IllegalArgumentException.class, () -> Speculation.fixed(NGRAM, -1, 0.3),
                "-1 stands for the rule by cost, not for a fixed batch size");
        assertThrows(IllegalArgumentException.class, () -> Speculation.fixed(NGRAM, 4, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Speculation.fixed(NGRAM, 4, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Speculation(NGRAM, null));
        assertThrows(IllegalArgumentException.class, () -> new Speculation(null, Speculation.ByCost.MEASURED));
    }

    @Test
    void offProposesNothing() {
        assertEquals(false, Speculation.OFF.enabled());
        assertTrue(Speculation.of(NGRAM).enabled());
    }
}
