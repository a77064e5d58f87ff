package dev.continuum.tokenizer;

import dev.continuum.loader.GgufTokenizerReader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import dev.continuum.loader.GgufFile;
import dev.continuum.loader.GgufMetadata;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** llama.cpp's tokenizer test vectors: every input must encode to exactly llama.cpp's ids, and decode back. */
@IntegrationTest
class TokenizerVectorsTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @TestFactory
    List<DynamicNode> vocabularies() throws IOException {
        Path dir = SharedTestData.require("models/vocab");
        List<Path> inputs;
        try (Stream<Path> files = Files.list(dir)) {
            inputs = files.filter(p -> p.getFileName().toString().endsWith(".gguf.inp")).sorted().toList();
        }
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path inp : inputs) {
            String ggufName = inp.getFileName().toString().replace(".inp", "");
            GgufMetadata md;
            try (Arena arena = Arena.ofConfined()) {
                md = GgufFile.open(dir.resolve(ggufName), arena).metadata();
            }
            String model = md.getString("tokenizer.ggml.model");
            nodes.add(DynamicContainer.dynamicContainer(ggufName + " (" + model + ")",
                    cases(GgufTokenizerReader.read(md), model, inp, dir.resolve(ggufName + ".out"))));
        }
        return nodes;
    }

    private static List<DynamicNode> cases(Tokenizer tokenizer, String model, Path inp, Path out)
            throws IOException {
        String[] texts = Files.readString(inp, StandardCharsets.UTF_8).split(SEPARATOR, -1);
        List<String> expectedLines = Files.readAllLines(out, StandardCharsets.UTF_8);
        List<DynamicNode> tests = new ArrayList<>();
        for (int i = 0; i < expectedLines.size(); i++) {
            String text = texts[i];
            int[] expected = parseIds(expectedLines.get(i));
            String name = "#" + i + " " + visible(text);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                int[] ids = tokenizer.encode(text, false);
                assertArrayEquals(expected, ids, () -> "input " + visible(text) + " gave " + Arrays.toString(ids));
                if (model.equals("bert")) {
                    return; // WordPiece normalises (lowercase, NFD, drops spaces): no way back to the input
                }
                // Decoding gives the input back; SentencePiece adds its leading space to non-empty input.
                String back = model.equals("llama") && !text.isEmpty() ? " " + text : text;
                assertEquals(back, tokenizer.decode(ids));
            }));
        }
        return tests;
    }

    private static int[] parseIds(String line) {
        String trimmed = line.trim();
        if (trimmed.isEmpty()) {
            return new int[0];
        }
        String[] parts = trimmed.split(" +");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            ids[i] = Integer.parseInt(parts[i]);
        }
        return ids;
    }

    private static String visible(String text) {
        String shown = text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
        return "'" + (shown.length() > 40 ? shown.substring(0, 40) + "…" : shown) + "'";
    }
}
