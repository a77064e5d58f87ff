package dev.continuum.model;

import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.tensor.ComputePool;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CPU runner behind the seam: its shape, its own weight preparation, KV block copies, and refusals. */
class CpuModelRunnerTest {
    private static final int BLOCK = 4;

    private static float[] lastLogits(CpuModelRunner runner, int[][] tables, int[] tokens, int slot) {
        StepBatch batch = new StepBatch(tokens.length, 1, tables, BLOCK);
        for (int i = 0; i < tokens.length; i++) {
            batch.addRow(tokens[i], i, slot);
        }
        batch.requestLogits(tokens.length - 1);
        StepOutput out = runner.forward(batch);
        assertEquals(1, out.rows());
        return Arrays.copyOf(out.logits(), out.vocabSize());
    }

    @Test
    void shapeDescribesTheModelAndItsFloat16Cache() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny", null); ComputePool pool = new ComputePool(1)) {
            ModelShape shape = new CpuModelRunner(m.config(), m.weights(), pool).shape();
            assertEquals(m.config().vocabSize(), shape.vocabSize());
            assertEquals(m.config().contextLength(), shape.contextLength());
            // Keys and values, every layer, one float16 each per KV dimension.
            assertEquals(2L * m.config().layers() * m.config().kvDim() * 2, shape.kvBytesPerToken());
        }
    }

    @Test
    void runnersOverTheSameLoadedWeightsShareOnePreparationAndAgree() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny:q8_0", null); ComputePool pool = new ComputePool(2)) {
            float[] embeddingRow = new float[m.config().dim()];
            m.weights().tokenEmbedding().dequantizeRow(7, embeddingRow, 0);
            float[] outputRow = new float[m.config().dim()];
            m.weights().output().dequantizeRow(5, outputRow, 0);
            CpuModelRunner first = new CpuModelRunner(m.config(), m.weights(), pool);
            CpuModelRunner second = new CpuModelRunner(m.config(), m.weights(), pool);
            int[][] tables = {{0, 1, 2}};
            first.allocateKvCache(3, BLOCK);
            second.allocateKvCache(3, BLOCK);
            int[] tokens = {1, 40, 41, 42, 43, 44, 45};
            assertArrayEquals(lastLogits(first, tables, tokens, 0), lastLogits(second, tables, tokens, 0),
                    "the second runner did not repack the already repacked memory again");
            float[] after = new float[m.config().dim()];
            m.weights().tokenEmbedding().dequantizeRow(7, after, 0);
            assertArrayEquals(embeddingRow, after, "the loaded weights still read as they did");
            m.weights().output().dequantizeRow(5, after, 0);
            assertArrayEquals(outputRow, after, "the repacked output matrix still reads row by row");
        }
    }

    @Test
    void copiedBlocksContinueTheSameSequence() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny", null); ComputePool pool = new ComputePool(2)) {
            CpuModelRunner runner = new CpuModelRunner(m.config(), m.weights(), pool);
            runner.allocateKvCache(6, BLOCK);
            int[] prompt = {1, 30, 31, 32, 33, 34}; // one full block and a partial one
            int[][] tables = {{0, 1, 2}, {0, 3, 4}};
            float[] parent = lastLogits(runner, tables, prompt, 0);
            runner.copyBlock(1, 3); // slot 1 shares block 0 and gets a copy of the partial block 1
            StepBatch next = new StepBatch(2, 2, tables, BLOCK);
            next.requestLogits(next.addRow(50, 6, 0));
            next.requestLogits(next.addRow(50, 6, 1));
            StepOutput out = runner.forward(next);
            int v = out.vocabSize();
            assertArrayEquals(Arrays.copyOfRange(out.logits(), 0, v), Arrays.copyOfRange(out.logits(), v, 2 * v),
                    "the fork sees the same cache as its parent");
            assertEquals(v, parent.length);
        }
    }

    @Test
    void refusesWorkItCannotDo() {
        try (LoadedModel m = ModelLoader.load("dummy:tiny", null); ComputePool pool = new ComputePool(1)) {
            CpuModelRunner runner = new CpuModelRunner(m.config(), m.weights(), pool);
            int[][] tables = {{0}};
            StepBatch batch = new StepBatch(1, 1, tables, BLOCK);
            batch.requestLogits(batch.addRow(1, 0, 0));
            assertThrows(IllegalStateException.class, () -> runner.forward(batch), "no KV cache allocated yet");
            runner.allocateKvCache(1, 8);
            assertThrows(IllegalArgumentException.class, () -> runner.forward(batch), "block sizes differ");
            runner.allocateKvCache(1, BLOCK);
            StepBatch outside = new StepBatch(1, 1, tables, BLOCK);
            outside.addRow(1, 4, 0); // position 4 needs a second block the table does not have
            assertThrows(IllegalArgumentException.class, () -> runner.forward(outside));
            StepBatch badToken = new StepBatch(1, 1, tables, BLOCK);
            badToken.addRow(m.config().vocabSize(), 0, 0);
            assertThrows(IllegalArgumentException.class, () -> runner.forward(badToken));
            assertThrows(IllegalArgumentException.class, () -> runner.copyBlock(0, 1));
        }
    }
}
