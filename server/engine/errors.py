"""Errors a user can be told about. `message` is an English msgid, translated at the edge
(zh-CN by default) with `params` filled in; `code` is stable for API clients."""

from __future__ import annotations


class DomainError(Exception):
    status = 409

    def __init__(self, code: str, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.code = code
        self.message = message
        self.params = params


class NotFound(DomainError):
    status = 404


class Invalid(DomainError):
    status = 422


class Forbidden(DomainError):
    status = 403


class IllegalTransition(DomainError):
    status = 409
