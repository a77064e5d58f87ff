package dev.continuum.quantize;

import dev.continuum.loader.LoadedModel;
import dev.continuum.model.MixtralModels;
import dev.continuum.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GPTQ's calibration pass computes dense feed-forwards only: a mixture of experts is refused, saying so. */
class CalibrationRefusesExpertsTest {
    @Test
    void aMixtureOfExpertsIsRefused() {
        try (LoadedModel m = MixtralModels.create(GgmlType.F32)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CalibrationHessians.collect(m.config(), m.weights(), new int[][] {{1, 2, 3}}));
            assertTrue(e.getMessage().contains("mixture-of-experts"), e.getMessage());
            assertTrue(e.getMessage().contains("without --gptq"), e.getMessage());
        }
    }
}
