package dev.continuum.eval;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The windows a model sees: BOS first, positions from 0, passes of up to {@code batch}, only scored rows back. */
class WindowLogitsTest {
    /** Answers each logits row with (its token, its position, the rows in its pass) and records each pass. */
    static final class EchoRunner implements ModelRunner {
        final List<int[]> passes = new ArrayList<>();
        private final StepOutput output = new StepOutput(16, 3);

        @Override
        public ModelShape shape() {
            return new ModelShape(3, 64, 1, 1);
        }

        @Override
        public void allocateKvCache(int blocks, int blockSize) {
        }

        @Override
        public StepOutput forward(StepBatch batch) {
            int[] pass = new int[batch.rows() * 2];
            for (int i = 0; i < batch.rows(); i++) {
                pass[2 * i] = batch.token(i);
                pass[2 * i + 1] = batch.position(i);
            }
            passes.add(pass);
            for (int j = 0; j < batch.logitRowCount(); j++) {
                int row = batch.logitRow(j);
                output.logits()[j * 3] = batch.token(row);
                output.logits()[j * 3 + 1] = batch.position(row);
                output.logits()[j * 3 + 2] = batch.rows();
            }
            output.setRows(batch.logitRowCount());
            return output;
        }

        @Override
        public void copyBlock(int src, int dst) {
        }

        @Override
        public WarmupReport warmUp(int decodeSteps) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String describe() {
            return "echo";
        }
    }

    @Test
    void secondWindowStartsWithBosAndReturnsItsScoredRows() {
        EchoRunner runner = new EchoRunner();
        WindowLogits windows = new WindowLogits(runner, 8, 3, 1);
        int[] tokens = {1, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27};
        float[] logits = windows.run(tokens, 8);
        // Passes of 3, 3 and 2 tokens; token 20 is replaced by BOS at position 0.
        assertEquals(3, runner.passes.size());
        assertArrayEquals(new int[] {1, 0, 21, 1, 22, 2}, runner.passes.get(0));
        assertArrayEquals(new int[] {23, 3, 24, 4, 25, 5}, runner.passes.get(1));
        assertArrayEquals(new int[] {26, 6, 27, 7}, runner.passes.get(2));
        // Scored: positions 4, 5 and 6 (predicting the tokens at 5, 6 and 7); position 7 predicts nothing here.
        assertEquals(3 * 3, logits.length);
        assertArrayEquals(new float[] {24, 4, 3, 25, 5, 3, 26, 6, 2}, logits);
    }

    @Test
    void withoutBosTheTextsOwnFirstTokenStays() {
        EchoRunner runner = new EchoRunner();
        new WindowLogits(runner, 4, 8, -1).run(new int[] {5, 6, 7, 8}, 0);
        assertEquals(1, runner.passes.size());
        assertArrayEquals(new int[] {5, 0, 6, 1, 7, 2, 8, 3}, runner.passes.get(0));
    }

    @Test
    void aWindowPastTheContextIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WindowLogits(new EchoRunner(), 65, 8, 1));
        assertTrue(e.getMessage().contains("at most the model's context of 64"), e.getMessage());
    }
}
