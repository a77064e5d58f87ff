package dev.continuum.model;

import dev.continuum.SharedTestData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The llama.cpp reference completions, for tests outside this package. */
public final class ReferenceCompletionsAccess {
    /** One reference line. */
    public record Ref(String prompt, int[] promptIds, int[] completionIds, String completionText, String stoppedBy,
                      List<String> tokenTexts) {
        public int maxTokens() {
            return completionIds.length;
        }

        /** The text of the first {@code n} completion tokens. */
        public String textOfFirst(int n) {
            return String.join("", tokenTexts.subList(0, n));
        }
    }

    private ReferenceCompletionsAccess() {
    }

    public static List<Ref> stories260k() {
        try (var model = dev.continuum.loader.ModelLoader.load(
                SharedTestData.require("models/stories260K.gguf").toString(), null)) {
            return ReferenceCompletions.read(SharedTestData.require("reference/stories260K-greedy.jsonl")).stream()
                    .map(r -> new Ref(r.prompt(), r.promptIds(), r.completionIds(), r.completionText(), r.stoppedBy(),
                            java.util.Arrays.stream(r.completionIds())
                                    .mapToObj(id -> new String(model.tokenizer().tokenBytes(id),
                                            java.nio.charset.StandardCharsets.UTF_8)).toList()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
