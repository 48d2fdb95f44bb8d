local Fine = hot.class("fine")
return Fine
