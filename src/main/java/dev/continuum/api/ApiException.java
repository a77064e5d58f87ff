package dev.continuum.api;

/** A request the API refuses, carrying the HTTP status and the fields of OpenAI's error object. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
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

    public int status() {
        return status;
    }

    public ErrorBody body() {
        return new ErrorBody(new ErrorBody.Detail(getMessage(), type, param, code));
    }
}
