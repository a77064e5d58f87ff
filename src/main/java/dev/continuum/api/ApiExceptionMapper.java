package dev.continuum.api;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Answers the JAX-RS endpoints' failures in OpenAI's error shape, as the Vert.x routes do. */
public class ApiExceptionMapper {
    @ServerExceptionMapper
    public Response apiError(ApiException e) {
        Response.ResponseBuilder b = Response.status(e.status()).type(MediaType.APPLICATION_JSON).entity(e.body());
        if (e.retryAfterSeconds() > 0) {
            b.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        return b.build();
    }

    @ServerExceptionMapper
    public Response webError(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        String type = status == 404 ? "not_found_error" : status < 500 ? "invalid_request_error" : "server_error";
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(new ErrorBody(new ErrorBody.Detail(e.getMessage(), type, null, null))).build();
    }
}
