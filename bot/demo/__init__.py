"""The demo: a running carbot on the demo study, with six weeks of made-up answers behind it."""
