package dev.continuum.tokenizer;

import dev.continuum.loader.GgufTokenizerReader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.GgufFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prompt ids and completion texts from llama.cpp's reference generations. */
@IntegrationTest
class ReferencePromptTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void stories260KGgufTokenizerMatchesReference() throws IOException {
        checkAgainst(gguf("models/stories260K.gguf"), "reference/stories260K-greedy.jsonl");
    }

    @Test
    void llama2cTokenizerBinMatchesReference() throws IOException {
        Tokenizer tokenizer = Llama2cTokenizerReader.read(SharedTestData.require("models/tok512.bin"), 512);
        assertEquals(512, tokenizer.vocabSize());
        checkAgainst(tokenizer, "reference/stories260K-greedy.jsonl");
    }

    @Test
    void dummy15MTokenizerMatchesReference() throws IOException {
        checkAgainst(gguf("models/dummy/dummy-15M-F16.gguf"), "reference/dummy-15M-F16-greedy.jsonl");
    }

    @Test
    void llama2cAndGgufVocabulariesAgree() {
        Tokenizer bin = Llama2cTokenizerReader.read(SharedTestData.require("models/tok512.bin"), 512);
        Tokenizer gguf = gguf("models/stories260K.gguf");
        for (int id = 0; id < 512; id++) {
            assertEquals(gguf.piece(id), bin.piece(id), "piece " + id);
            assertArrayEquals(gguf.tokenBytes(id), bin.tokenBytes(id), "bytes of token " + id);
        }
    }

    private static Tokenizer gguf(String relative) {
        Path path = SharedTestData.require(relative);
        try (Arena arena = Arena.ofConfined()) {
            return GgufTokenizerReader.read(GgufFile.open(path, arena).metadata());
        }
    }

    private static void checkAgainst(Tokenizer tokenizer, String referenceFile) throws IOException {
        List<String> lines = Files.readAllLines(SharedTestData.require(referenceFile));
        assertTrue(tokenizer.addBos());
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode ref = JSON.readTree(line);
            String prompt = ref.get("prompt").asText();
            int[] expected = ids(ref.get("prompt_ids"));
            int[] body = tokenizer.encode(prompt, false);
            int[] withBos = new int[body.length + 1];
            withBos[0] = tokenizer.bosId();
            System.arraycopy(body, 0, withBos, 1, body.length);
            assertArrayEquals(expected, withBos, "prompt ids of '" + prompt + "'");
            assertEquals(ref.get("completion_text").asText(), tokenizer.decode(ids(ref.get("completion_ids"))),
                    "completion text after '" + prompt + "'");
        }
    }

    private static int[] ids(JsonNode array) {
        List<Integer> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asInt()));
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = list.get(i);
        }
        return ids;
    }
}
