package dev.continuum.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/** OpenAI's error shape: {@code {"error": {"message", "type", "param", "code"}}}. */
public record ErrorBody(Detail error) {
    /** The error object; {@code param} and {@code code} are null when they do not apply. */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Detail(String message, String type, String param, String code) {
    }
}
