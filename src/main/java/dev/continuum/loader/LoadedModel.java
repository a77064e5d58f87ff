package dev.continuum.loader;

import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tokenizer.Tokenizer;

import java.lang.foreign.Arena;

/**
 * A model ready to run: config, weights (memory-mapped or generated off-heap in {@code arena}), tokenizer, and
 * the chat template when the file has one. Closing it releases the weights' memory.
 *
 * @param name        the name the model is served under
 * @param description a one-line summary for logs
 * @param chatTemplate the Jinja chat template from the file, or null
 */
public record LoadedModel(String name, String description, LlamaConfig config, LlamaWeights weights,
                          Tokenizer tokenizer, String chatTemplate, Arena arena) implements AutoCloseable {
    @Override
    public void close() {
        arena.close();
    }
}
