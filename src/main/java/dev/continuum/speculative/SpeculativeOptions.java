package dev.continuum.speculative;

import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenProposer;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The speculative-decoding options shared by {@code serve} (as {@code continuum.speculative-*} properties),
 * {@code generate} and {@code bench}, validated; {@link #open} turns them into the engine's {@link Speculation}.
 *
 * @param model        {@code --speculative-model}: a draft model spec (any spec the server loads), or null
 * @param ngram        {@code --speculative-ngram N}: prompt lookup matching the last N tokens, or 0
 * @param numTokens    {@code --num-speculative-tokens K}: proposals per sequence per step
 * @param disableAbove {@code --speculative-disable-above}: no proposals while more sequences decode, and no other
 *                     rule; {@link Speculation#BY_COST} (not given): proposals where measured step costs say they pay
 */
public record SpeculativeOptions(String model, int ngram, int numTokens, int disableAbove) {
    /** Proposals per step unless configured (vLLM's examples use 5 for prompt lookup, llama.cpp drafts up to 16). */
    public static final int DEFAULT_NUM_TOKENS = 5;
    /** {@link #DEFAULT_NUM_TOKENS} as a constant string, for annotation defaults ({@code @WithDefault}). */
    public static final String DEFAULT_NUM_TOKENS_TEXT = "" + DEFAULT_NUM_TOKENS;
    public static final SpeculativeOptions NONE = new SpeculativeOptions(null, 0, DEFAULT_NUM_TOKENS,
            Speculation.BY_COST);

    public SpeculativeOptions {
        if (model != null && model.isBlank()) {
            model = null;
        }
        if (model != null && ngram != 0) {
            throw new IllegalArgumentException(name("speculative-model") + " and " + name("speculative-ngram")
                    + " exclude each other: choose one proposer");
        }
        if (ngram < 0 || ngram > NgramProposer.MAX_N) {
            throw new IllegalArgumentException(name("speculative-ngram") + " must be in [1, " + NgramProposer.MAX_N
                    + "] (0: off), got " + ngram);
        }
        if (numTokens < 1 || numTokens > NgramProposer.MAX_K) {
            throw new IllegalArgumentException(name("num-speculative-tokens") + " must be in [1, " + NgramProposer.MAX_K
                    + "], got " + numTokens);
        }
        if (disableAbove < Speculation.BY_COST) {
            throw new IllegalArgumentException(name("speculative-disable-above") + " must be >= 0, or -1 (the "
                    + "default: decided by measured step costs), got " + disableAbove);
        }
    }

    /**
     * An option as both its spellings, the command-line flag and the server's property: the options come from
     * either, and a message should name the one its reader set.
     */
    static String name(String option) {
        return "--" + option + " (continuum." + option + ")";
    }

    public boolean enabled() {
        return model != null || ngram > 0;
    }

    /**
     * The engine's speculation for {@code target}: plain decoding when neither proposer is asked for; prompt
     * lookup; or the draft model loaded (with {@code tokenizer} for a llama2.c checkpoint), checked to share the
     * target's vocabulary, opened on {@code backend} and warmed up ({@code warmupSteps} decode steps, 0: none).
     * The proposer owns the draft: closing it closes the draft's runner and model.
     *
     * @throws IllegalArgumentException when the draft's vocabulary differs (the message says how)
     */
    public Speculation open(LoadedModel target, Path tokenizer, Backend backend, int threads, int warmupSteps,
                            Consumer<String> warn) {
        TokenProposer proposer;
        if (ngram > 0) {
            proposer = new NgramProposer(ngram, numTokens);
        } else if (model != null) {
            LoadedModel draft = ModelLoader.load(model, tokenizer, null);
            OpenedRunner opened = null;
            try {
                DraftModelProposer.checkVocabulary(target.tokenizer(), target.config().vocabSize(),
                        draft.tokenizer(), draft.config().vocabSize());
                opened = RunnerFactory.open(draft, backend, threads, warn);
                if (warmupSteps > 0) {
                    opened.runner().warmUp(warmupSteps);
                }
                OpenedRunner runner = opened;
                proposer = new DraftModelProposer(runner.runner(), numTokens, () -> {
                    runner.close();
                    draft.close();
                });
            } catch (RuntimeException e) {
                if (opened != null) {
                    opened.close();
                }
                draft.close();
                throw e;
            }
        } else {
            return Speculation.OFF;
        }
        return Speculation.of(proposer, disableAbove);
    }
}
