"""A loopback canary: an HTTP listener that counts every connection made to it.

A query that makes the service contact another host would reach it; the attack tests assert it
counted nothing, and one control test shows that with both layers off it does count (so the
canary can fail).
"""

from __future__ import annotations

import socket
import threading


class Canary:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.hits = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            try:
                conn.settimeout(1)
                conn.recv(4096)
                conn.sendall(
                    b"HTTP/1.1 500 canary\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


def query_attacks(target: str) -> list[tuple[str, str]]:
    """(clause the guard must name, query): tokenizer tricks a hand lexer misses, and plain ones."""
    host = target.rstrip("/")
    return [
        (
            "SERVICE",
            f"SELECT * WHERE {{ BIND(1<'>' AS ?x) SERVICE <{host}/a> {{ ?s ?p ?o }} "
            "BIND('' AS ?y) }",
        ),
        (
            "SERVICE",
            f'SELECT * WHERE {{ BIND(1<">" AS ?x) SERVICE <{host}/b> {{ }} BIND("" AS ?y) }}',
        ),
        ("SERVICE", f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o < '>') SERVICE <{host}/c> {{ }} }}"),
        ("SERVICE", f'SELECT * WHERE {{ BIND("#" AS ?x) SERVICE <{host}/d> {{ }} }}'),
        ("SERVICE", f'SELECT * WHERE {{ BIND("\\"<" AS ?x) SERVICE <{host}/e> {{ }} }}'),
        ("SERVICE", f"SELECT * WHERE {{ BIND('''a'b>''' AS ?x) SERVICE <{host}/f> {{ }} }}"),
        ("SERVICE", f"select * {{ service <{host}/g> {{ }} }}"),
        ("SERVICE", f"SELECT * {{ SeRvIcE SILENT <{host}/h> {{ ?s ?p ?o }} }}"),
        ("SERVICE", f"SELECT * {{ {{ {{ OPTIONAL {{ SERVICE <{host}/i> {{ ?s ?p ?o }} }} }} }} }}"),
        ("SERVICE", f"SELECT * {{ VALUES ?e {{ <{host}/j> }} SERVICE ?e {{ }} }}"),
        ("SERVICE", f"PREFIX c: <{host}/> SELECT * {{ SERVICE c:k {{ }} }}"),
        ("SERVICE", f"BASE <{host}/l> SELECT * {{ SERVICE <> {{ }} }}"),
        ("SERVICE", f"SELECT * {{ {{ SELECT * {{ SERVICE <{host}/m> {{ }} }} }} }}"),
        ("SERVICE", f"SELECT * {{ FILTER EXISTS {{ SERVICE <{host}/n> {{ }} }} }}"),
        ("SERVICE", f"SELECT * {{ ?s ?p <x'y> . SERVICE <{host}/o> {{ }} }}"),
        (
            "SERVICE",
            f"PREFIX e: <http://e/> SELECT * {{ ?s e:a\\'b ?o . SERVICE <{host}/p> {{ }} }}",
        ),
        ("SERVICE", f"SELECT * {{ # a comment with < and '\n SERVICE <{host}/q> {{ }} }}"),
        ("SERVICE", f"ASK {{ SERVICE <{host}/r> {{ }} }}"),
        ("SERVICE", f"DESCRIBE ?s WHERE {{ SERVICE <{host}/s> {{ ?s ?p ?o }} }}"),
        ("SERVICE", f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{host}/t> {{ ?s ?p ?o }} }}"),
        ("SERVICE", f"SELECT * {{ BIND(<{host}/u> AS ?e) SERVICE ?e {{ }} }}"),
        ("SERVICE", f"SELECT * {{ SERVICE <http://localhost:{host.rsplit(':', 1)[1]}/v> {{ }} }}"),
        (
            "SERVICE",
            f"SELECT * {{ BIND(1<'>' AS ?x) MINUS {{ SERVICE SILENT <{host}/w> {{ }} }} }}",
        ),
        # Escapes: rdflib decodes \u everywhere, Oxigraph only inside strings and IRIs.
        (
            "SERVICE",
            f'SELECT * {{ BIND("\\u005C" AS ?x) SERVICE <{host}/e1> {{}} BIND(\'"\' AS ?y) }}',
        ),
        ("SERVICE", f'SELECT * {{ BIND("a\\u005C" AS ?x) SERVICE <{host}/e2> {{}} }}'),
        ("SERVICE", f'SELECT * {{ BIND("\\u0022" AS ?x) SERVICE <{host}/e3> {{}} }}'),
        ("FROM", f"SELECT * FROM <{host}/data.ttl> WHERE {{ ?s ?p ?o }}"),
        (
            "FROM NAMED",
            f"select * from named <{host}/named.ttl> where {{ graph ?g {{ ?s ?p ?o }} }}",
        ),
    ]


def update_attacks(target: str) -> list[tuple[str, str]]:
    host = target.rstrip("/")
    return [
        ("LOAD", f"LOAD <{host}/data.ttl>"),
        ("LOAD", f"load silent <{host}/data.ttl> into graph <http://example.org/g>"),
        ("LOAD", f"CLEAR SILENT GRAPH <http://example.org/none> ; LOAD <{host}/x.ttl>"),
        ("LOAD", f"INSERT DATA {{ <http://a> <http://b> '>' }} ; LOAD <{host}/y.ttl>"),
        (
            "SERVICE",
            f"INSERT {{ ?s ?p ?o }} WHERE {{ BIND(1<'>' AS ?x) SERVICE <{host}/z> {{ ?s ?p ?o }} "
            "BIND('' AS ?y) }",
        ),
        ("SERVICE", f"delete {{ ?s ?p ?o }} where {{ service <{host}/zz> {{ ?s ?p ?o }} }}"),
    ]
