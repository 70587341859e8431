const status = document.getElementById('status');
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = () => ws.send(JSON.stringify({jsonrpc: '2.0', id: 1, method: 'session/hello', params: {client: 'placeholder'}}));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id === 1 && m.result) status.textContent = 'connected to ' + m.result.server.name + ' ' + m.result.server.version;
  };
  ws.onclose = () => { status.textContent = 'offline'; };
