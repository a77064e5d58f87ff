package dev.continuum.cli;

import dev.continuum.engine.Speculation;
import dev.continuum.speculative.SpeculativeOptions;
import picocli.CommandLine.Option;

/**
 * The speculative-decoding flags of {@code generate}, {@code bench} and {@code serve} (a picocli mixin). A flag not
 * given is null: {@code serve} then leaves its property to the config, the others take the default.
 */
final class SpeculativeFlags {
    @Option(names = "--speculative-model", description = "Draft model spec proposing tokens for the served model"
            + " to verify; same vocabulary (serve: property continuum.speculative-model)")
    String model;

    @Option(names = "--speculative-ngram", description = "Prompt lookup: propose what followed the last N tokens"
            + " earlier in the prompt and output (serve: property continuum.speculative-ngram)")
    Integer ngram;

    @Option(names = "--num-speculative-tokens", description = "Proposals per sequence per step (default "
            + SpeculativeOptions.DEFAULT_NUM_TOKENS + "; serve: property continuum.num-speculative-tokens)")
    Integer numTokens;

    @Option(names = "--speculative-disable-above", description = "Fixed rule: every sequence proposes while at most"
            + " this many decode, none above (default: proposals where the step costs measured at start say they"
            + " pay; serve: property continuum.speculative-disable-above)")
    Integer disableAbove;

    /** The flags validated, defaults for those not given; an IllegalArgumentException names the bad one. */
    SpeculativeOptions options() {
        return new SpeculativeOptions(model, ngram == null ? 0 : ngram,
                numTokens == null ? SpeculativeOptions.DEFAULT_NUM_TOKENS : numTokens,
                disableAbove == null ? Speculation.BY_COST : disableAbove);
    }
}
