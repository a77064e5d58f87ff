package dev.continuum.cli;

import dev.continuum.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Benchmark prompts from a text file: one per non-blank line, tokenized as {@code generate} does (BOS first). */
final class PromptFile {
    private PromptFile() {
    }

    static int[][] read(Path file, Tokenizer tok) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the prompt file " + file, e);
        }
        List<int[]> prompts = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            int[] body = tok.encode(line, false);
            boolean bos = tok.addBos() && tok.bosId() >= 0;
            int[] ids = new int[body.length + (bos ? 1 : 0)];
            if (bos) {
                ids[0] = tok.bosId();
            }
            System.arraycopy(body, 0, ids, bos ? 1 : 0, body.length);
            prompts.add(ids);
        }
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("the prompt file " + file + " has no prompts");
        }
        return prompts.toArray(new int[0][]);
    }
}
