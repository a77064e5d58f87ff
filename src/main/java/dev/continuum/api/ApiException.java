package dev.continuum.api;

/** A request the API refuses, carrying the HTTP status and the fields of OpenAI's error object. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final int retryAfterSeconds;

    public ApiException(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, status == 429 || status == 503 ? 1 : 0);
    }

    /** @param retryAfterSeconds the Retry-After header's value, or 0 for none */
    public ApiException(int status, String type, String param, String code, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 invalid_request_error about {@code param}. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    public static ApiException modelNotFound(String requested, String served) {
        return new ApiException(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + requested + "' does not exist; this server serves '" + served + "'");
    }

    /** 503 while the model loads, or for good when it failed to load (with the reason). */
    public static ApiException notReady(dev.continuum.server.ModelHost host) {
        if (host.state() == dev.continuum.server.ModelHost.State.FAILED) {
            return new ApiException(503, "service_unavailable", null, "model_load_failed",
                    "The model failed to load: " + host.failure());
        }
        return new ApiException(503, "service_unavailable", null, "model_loading",
                "The model is still loading; retry shortly");
    }

    /** 413: the body is larger than {@code continuum.max-request-bytes}, the limit on every route. */
    public static ApiException bodyTooLarge(String size, long limit) {
        return new ApiException(413, "invalid_request_error", null, "request_too_large",
                "the request body" + size + " is larger than the limit of " + limit
                        + " bytes (continuum.max-request-bytes)");
    }

    public int status() {
        return status;
    }

    /** Seconds for the Retry-After header, or 0 when the response carries none. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public ErrorBody body() {
        return new ErrorBody(new ErrorBody.Detail(getMessage(), type, param, code));
    }
}
