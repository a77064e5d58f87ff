package dev.continuum.loader;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.format.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama2.c checkpoints load with the right shapes, and broken ones fail with a precise message. */
@IntegrationTest
class Llama2cCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void loadsStories260k() {
        try (LoadedModel m = ModelLoader.load(SharedTestData.require("models/stories260K.bin").toString(),
                SharedTestData.require("models/tok512.bin"))) {
            assertEquals(64, m.config().dim());
            assertEquals(5, m.config().layers());
            assertEquals(8, m.config().heads());
            assertEquals(4, m.config().kvHeads());
            assertEquals(512, m.config().vocabSize());
            assertEquals(512, m.config().contextLength());
            assertEquals(172, m.config().ffnDim());
            assertEquals(512, m.tokenizer().vocabSize());
        }
    }

    @Test
    void truncatedCheckpointIsRejected() throws IOException {
        byte[] full = Files.readAllBytes(SharedTestData.require("models/stories260K.bin"));
        Path tokenizer = SharedTestData.require("models/tok512.bin");
        for (int cut : new int[]{0, 10, 28, 1000, full.length - 4}) {
            Path f = tmp.resolve("cut" + cut + ".bin");
            Files.write(f, Arrays.copyOf(full, cut));
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> ModelLoader.load(f.toString(), tokenizer));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void absurdHeaderIsRejected() throws IOException {
        int[][] headers = {
                {0, 172, 5, 8, 4, 512, 512},
                {64, 172, 5, 7, 4, 512, 512},
                {64, 172, 5, 8, 3, 512, 512},
                {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, 1, 1, Integer.MAX_VALUE, 1},
                {64, 172, 5, 8, 4, Integer.MIN_VALUE, 512},
        };
        Path tokenizer = SharedTestData.require("models/tok512.bin");
        for (int[] h : headers) {
            ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : h) {
                b.putInt(v);
            }
            Path f = tmp.resolve("bad.bin");
            Files.write(f, b.array());
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> ModelLoader.load(f.toString(), tokenizer));
            assertTrue(e.getMessage().contains("bad.bin"), e.getMessage());
        }
    }

    @Test
    void missingTokenizerIsAClearError() {
        String checkpoint = SharedTestData.require("models/stories260K.bin").toString();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ModelLoader.load(checkpoint, tmp.resolve("no.bin")));
        assertTrue(e.getMessage().contains("tokenizer"), e.getMessage());
    }
}
