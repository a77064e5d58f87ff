package dev.continuum.engine;

/**
 * One generated token of one choice. {@code text} is what it adds to the choice's text: possibly empty while
 * bytes of an incomplete UTF-8 character or a possible stop string are held back, possibly longer when held-back
 * text is released. {@code topTokens}/{@code topLogprobs} are null unless log-probabilities were asked for.
 */
public record TokenEvent(int choice, int token, String text, float logprob, int[] topTokens, float[] topLogprobs) {
}
