package dev.continuum.loader;

import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tokenizer.Tokenizer;

import java.lang.foreign.Arena;

/**
 * A model as read from its file: config, weights as stored (memory-mapped or generated off-heap in {@code arena}),
 * tokenizer, and the chat template when the file has one. A model runner prepares the weights for its kernels
 * (the CPU's repacks them in place, in private copy-on-write pages). Closing it releases the weights' memory.
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
