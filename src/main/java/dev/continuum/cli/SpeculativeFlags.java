package dev.continuum.cli;

import dev.continuum.engine.Speculation;
import dev.continuum.speculative.SpeculativeOptions;
import picocli.CommandLine.Option;

/** The speculative-decoding flags of {@code generate} and {@code bench} (a picocli mixin). */
final class SpeculativeFlags {
    @Option(names = "--speculative-model", description = "Draft model spec proposing tokens for the served model"
            + " to verify (same vocabulary)")
    String model;

    @Option(names = "--speculative-ngram", description = "Prompt lookup: propose what followed the last N tokens"
            + " earlier in the prompt and output")
    int ngram;

    @Option(names = "--num-speculative-tokens", description = "Proposals per sequence per step (default "
            + SpeculativeOptions.DEFAULT_NUM_TOKENS + ")")
    int numTokens = SpeculativeOptions.DEFAULT_NUM_TOKENS;

    @Option(names = "--speculative-disable-above", description = "No proposals while more sequences than this"
            + " decode (default " + Speculation.DEFAULT_DISABLE_ABOVE + ")")
    int disableAbove = Speculation.DEFAULT_DISABLE_ABOVE;

    /** The flags validated; an IllegalArgumentException names the bad one. */
    SpeculativeOptions options() {
        return new SpeculativeOptions(model, ngram, numTokens, disableAbove);
    }
}
