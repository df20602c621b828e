/* sample-service.h: answer one sample-database service request from the dataset
 *
 * The one place that maps a service request to a dataset lookup; used by the
 * ZeroMQ adapter (xbus-adapter-sample) and the plain HTTP backend
 * (xbus-sample-backend), so both serve byte-identical answers.
 */
#pragma once

#include <stddef.h>

#include "policy/problem.h"
#include "sample/dataset.h"

#define SAMPLE_MAX_BODY 4096 /* request bodies (tax-obligation-check) */

typedef struct SampleRequest {
        const char *service; /* full id, "VN/GOV/BCA/population/citizen" */
        const char *method;  /* "GET", "POST", ... */
        const char *path;    /* "/" or "" for none; "/{code}" for enterprise; "/{subject}" is the subject */
        const char *subject; /* NULL when none */
        const void *body;
        size_t body_size;
} SampleRequest;

typedef struct SampleAnswer {
        int status;         /* 200, 400, 404, 405 */
        ProblemType error;  /* PROBLEM_NONE on 200, else the error (PROBLEM_NOT_FOUND) */
        const char *detail; /* NULL, or a static one-line explanation */
        char *body;         /* malloc'd JSON, owned by the caller */
        size_t body_size;
} SampleAnswer;

/* sample_service_ids(): the services served, NULL-terminated, static. */
const char *const *sample_service_ids(void);

/*
 * sample_service_answer(): answer `req` from the dataset behind `r`. Every
 * outcome the requester caused (unknown service, wrong method, missing or
 * malformed subject, unknown subject, bad body) is an answer with its status
 * and a JSON body {"error":...,"detail":...}. On return 0 the caller owns
 * ret->body. Return: 0, or -ENOMEM / -EIO when the dataset cannot be read.
 */
int sample_service_answer(DatasetReader *r, const SampleRequest *req, SampleAnswer *ret);

/* sample_answer_done(): free the body of an answer. */
void sample_answer_done(SampleAnswer *a);
