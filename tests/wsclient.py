"""simple-websocket's client, minus one race that would make tests flaky.

Its handshake reads the server's 101 answer and keeps only the first event: frames that came
in the same read (a server that sends at once, then closes) sit unparsed in wsproto's buffer,
and the connection looks closed with nothing received. Parse them before reading on.
"""

import simple_websocket


class Client(simple_websocket.Client):
    def _thread(self):
        if self._handle_events():
            super()._thread()
        else:  # the server had closed already: what it sent first is in input_buffer
            self.sock.close()
