#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "hello, ${QUERY_STRING:-stranger}, from a CGI script in a dockyard container"
