package dev.continuum.engine;

import java.util.Locale;

/** Why a sequence ended, named as OpenAI's {@code finish_reason}. */
public enum FinishReason {
    /** The end-of-generation token or a stop string. */
    STOP,
    /** {@code max_tokens} or the context limit. */
    LENGTH,
    /** The client went away or cancelled; nothing more is sent. */
    CANCELLED,
    /** The engine failed on this request. */
    ERROR,
    /** The request ran past its deadline ({@code timeout}, at most {@code continuum.request-timeout}). */
    TIMEOUT;

    public String openAiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
