package dev.continuum.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.http.HttpServerResponse;

/** Writes an {@link ApiException} on a Vert.x response in OpenAI's error shape, with Retry-After where it has one. */
final class ErrorResponses {
    private ErrorResponses() {
    }

    static void write(HttpServerResponse response, ApiException e, ObjectMapper json) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(e.status()).putHeader("Content-Type", "application/json");
        if (e.retryAfterSeconds() > 0) {
            response.putHeader("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        try {
            response.end(json.writeValueAsString(e.body()));
        } catch (JacksonException ex) {
            response.end("{\"error\":{\"message\":\"internal error\",\"type\":\"server_error\"}}");
        }
    }
}
